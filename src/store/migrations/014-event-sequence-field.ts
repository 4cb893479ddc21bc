import type { Knex } from 'knex';

/**
 * `billing_event_sequence_field(n)`: field 8 (`sequence`, int64) of billing.v1.BillingEvent, protobuf-encoded (the
 * tag byte 0x40, then n as a varint). The change journal (change-journal.ts) numbers a transaction's events in the
 * same statement that writes them, so the payload it built without a sequence gets the field appended in SQL:
 * protobuf decoders take the last value of a repeated scalar field, so the appended one is the event's sequence.
 * Sequences are positive; 9 bytes hold any bigint's 63 bits.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION billing_event_sequence_field(n bigint) RETURNS bytea
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
      SELECT '\\x40'::bytea || string_agg(
        set_byte('\\x00'::bytea, 0, (((n >> (7 * i)) & 127) | CASE WHEN (n >> (7 * (i + 1))) > 0 THEN 128 ELSE 0 END)::int),
        ''::bytea ORDER BY i)
      FROM generate_series(0, 8) AS i
      WHERE i = 0 OR (n >> (7 * i)) > 0
    $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP FUNCTION billing_event_sequence_field(bigint)');
}
