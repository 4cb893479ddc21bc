import type { Knex } from 'knex';

/**
 * `billing_abort_statement(reason)`: raises SQLSTATE BL001 with `reason`, so one statement can undo itself. The change
 * journal's one-statement create claims the call's idempotency key and inserts its lead row in the same statement:
 * when the key was claimed but the lead row was taken, the statement must write nothing, and only an error undoes the
 * claim (change-journal.ts). VOLATILE, so it is only ever run where a CASE branch reaches it.
 */
export async function up(knex: Knex): Promise<void> {
  await knex.raw(`
    CREATE FUNCTION billing_abort_statement(reason text) RETURNS int
    LANGUAGE plpgsql VOLATILE AS $$
    BEGIN
      RAISE EXCEPTION USING ERRCODE = 'BL001', MESSAGE = reason;
    END
    $$`);
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw('DROP FUNCTION billing_abort_statement(text)');
}
