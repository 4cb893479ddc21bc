import type { Knex } from 'knex';
import type { HeldIdempotencyKey, KeyClaimAtCommit } from '../ports/store.port';
import { keyLockId, TRY_KEY_LOCK_SQL } from './idempotency-key-lock';

/** An outbox row waiting for its sequence: its payload is the event encoded without one. */
export interface JournalEvent {
  eventId: string;
  type: string;
  stream: string;
  key: string;
  storefrontId: string;
  tenantId: string;
  provider: string;
  aggregateId: string;
  occurredAt: Date;
  payload: Uint8Array;
  traceparent?: string;
  tracestate?: string;
}

export interface JournalAudit {
  occurredAt: Date;
  actor: string;
  correlationId: string;
  action: string;
  resourceType: string;
  resourceId: string;
  storefrontId?: string;
  details: Record<string, unknown>;
}

/**
 * A keyed call's response, stored with the change: fenced by the attempt that holds the key (`held`), or claiming
 * the key in the same statement (`claim`: no attempt held it before; if it is taken, nothing is written).
 */
export type JournalCompletion =
  { held: HeldIdempotencyKey; response: Uint8Array } | { claim: KeyClaimAtCommit; response: Uint8Array };

/**
 * Another repository's write sent in the journal's statement (`ChangeJournal.ride`): one or more CTEs, named so no
 * other part of the statement uses the names, with their bindings in order. It must not write a row the journal
 * writes (one statement must not change a row twice).
 */
export interface JournalRider {
  /** Which write this is: one of each per statement, since its CTE names are fixed. */
  name: string;
  ctes: string;
  bindings: Knex.RawBinding[];
}

/**
 * What a transaction records beside its state change: events (numbered per key), audit rows and, for a keyed call,
 * its response, and writes other repositories leave to the end (`ride`: a processed webhook's mark). They are kept
 * here and written in one statement at the end of the transaction, instead of three or four round trips per event
 * while the transaction is open.
 *
 * The statement numbers the events: it bumps each key's counter in `event_sequences` by the number of its events
 * (keys in sorted order, so two transactions lock shared keys in the same order), and appends the sequence to each
 * payload as protobuf field 8 (`billing_event_sequence_field`, migration 014). The counter row stays locked until
 * commit, so writers of one key still commit in sequence order, gap-free, as when each append bumped it.
 */
export class ChangeJournal {
  private events: JournalEvent[] = [];
  private audits: JournalAudit[] = [];
  private pendingLead?: JournalLead;
  private riders: JournalRider[] = [];

  /**
   * @param autoFlush writes at once (repositories on the plain connection, where there is no commit to wait for).
   */
  constructor(
    private readonly db: Knex | Knex.Transaction,
    private readonly autoFlush = false,
  ) {}

  /**
   * Makes the next flush one statement that also inserts `lead`, and writes the rest only if `lead` was inserted: a
   * create whose only precondition is a unique key is then one round trip, in its own transaction (the journal must
   * be on the plain connection). That flush throws `LeadTaken`, having written nothing, when the key is taken. With a
   * completion it writes nothing and answers false when the call does not hold its idempotency key: a held key's row
   * is locked first, so a takeover cannot slip in between; a key claimed by the statement itself must be new.
   */
  lead(lead: JournalLead): void {
    if (this.riders.length > 0) throw new Error('a change journal with riders takes no lead');
    this.pendingLead = lead;
  }

  /**
   * Writes `rider` in the journal's statement at the end of the transaction, not in a round trip of its own (at once
   * on an auto-flushing journal). Its CTEs do not hang on a lead, so a journal with a lead takes none.
   */
  async ride(rider: JournalRider): Promise<void> {
    // Refused where it is called, not when the statement fails at the end of the transaction.
    if (this.pendingLead) throw new Error('a change journal with a lead takes no riders');
    if (this.riders.some((r) => r.name === rider.name)) throw new Error(`${rider.name} rides a statement once`);
    this.riders.push(rider);
    if (this.autoFlush) await this.flush();
  }

  async event(event: JournalEvent): Promise<void> {
    this.events.push(event);
    if (this.autoFlush) await this.flush();
  }

  async audit(entry: JournalAudit): Promise<void> {
    this.audits.push(entry);
    if (this.autoFlush) await this.flush();
  }

  /**
   * Writes what is pending, with `completion` if given; answers whether the completion was stored (false: the key
   * is no longer this attempt's). Nothing pending and no completion: no statement at all. With a lead, see `lead`.
   */
  async flush(completion?: JournalCompletion): Promise<boolean> {
    const events = this.events;
    const audits = this.audits;
    const lead = this.pendingLead;
    const riders = this.riders;
    this.events = [];
    this.audits = [];
    this.pendingLead = undefined;
    this.riders = [];
    if (events.length === 0 && audits.length === 0 && !completion && !lead && riders.length === 0) return true;
    const parts: string[] = [];
    const bindings: Knex.RawBinding[] = [];
    // `held` is the call's key: locked when the attempt holds it, inserted (done, with the response) when claimed here.
    if (completion && 'claim' in completion) {
      const { scope, key, method, requestHash, owner, retentionMs } = completion.claim;
      parts.push(CLAIM_SQL);
      bindings.push(scope, key, method, requestHash, owner, retentionMs / 1000, Buffer.from(completion.response));
      bindings.push(keyLockId(scope, key));
    } else if (completion && lead) {
      parts.push(HELD_SQL);
      const { scope, key, owner } = completion.held;
      bindings.push(scope, key, owner);
    }
    // With a lead, every write below is conditional on it (and it on the key): all or nothing, one statement.
    const ifLead = lead ? ' WHERE EXISTS (SELECT 1 FROM lead)' : '';
    if (lead) {
      parts.push(leadSql(lead, completion ? ' WHERE EXISTS (SELECT 1 FROM held)' : ''));
      bindings.push(...lead.bindings);
    }
    if (events.length > 0) {
      parts.push(eventsSql(events.length, ifLead));
      events.forEach((e, i) =>
        bindings.push(
          i,
          e.eventId,
          e.type,
          e.stream,
          e.key,
          e.storefrontId,
          e.tenantId,
          e.provider,
          e.aggregateId,
          e.occurredAt,
          Buffer.from(e.payload),
          e.traceparent ?? null,
          e.tracestate ?? null,
        ),
      );
    }
    if (audits.length > 0) {
      parts.push(auditSql(audits.length, ifLead));
      for (const a of audits) {
        bindings.push(
          a.occurredAt,
          a.actor,
          a.correlationId,
          a.action,
          a.resourceType,
          a.resourceId,
          a.storefrontId ?? null,
          JSON.stringify(a.details),
        );
      }
    }
    if (completion && 'held' in completion) {
      parts.push(COMPLETION_SQL + (lead ? ' AND EXISTS (SELECT 1 FROM lead)' : '') + '\n  RETURNING 1)');
      const { scope, key, owner } = completion.held;
      bindings.push(Buffer.from(completion.response), scope, key, owner);
    }
    for (const rider of riders) {
      parts.push(rider.ctes);
      bindings.push(...rider.bindings);
    }
    const claimed = completion && 'claim' in completion;
    const counts = [
      `${!completion ? '1' : claimed ? '(SELECT count(*) FROM held)' : '(SELECT count(*) FROM completed)'} AS completed`,
      `${completion && (lead || claimed) ? '(SELECT count(*) FROM held)' : '1'} AS held`,
      `${lead ? '(SELECT count(*) FROM lead)' : '1'} AS inserted`,
    ];
    // A key claimed here while the lead was taken: the claim (already stored as done) must not stand. Nothing else
    // was written (it all hangs on the lead), and the error undoes the claim.
    if (claimed && lead) counts.push(ABORT_IF_CLAIMED_WITHOUT_LEAD);
    let row: { completed: unknown; held: unknown; inserted: unknown };
    try {
      const result = await this.db.raw(`WITH ${parts.join(',\n')}\nSELECT ${counts.join(', ')}`, bindings);
      row = result.rows[0];
    } catch (error) {
      if ((error as { code?: unknown }).code === ABORTED_STATEMENT) throw new LeadTaken();
      throw error;
    }
    if (Number(row.held) === 0) return false;
    if (Number(row.inserted) === 0) throw new LeadTaken();
    return Number(row.completed) > 0;
  }
}

/**
 * A row inserted ahead of the journal's writes, unless a unique key of its table is taken (see `ChangeJournal.lead`).
 * `values` is one placeholder per column, cast where the column is not text (they are read as a SELECT's values).
 */
export interface JournalLead {
  table: string;
  columns: readonly string[];
  values: string;
  bindings: Knex.RawBinding[];
  /** The unique columns a conflict on means "taken". */
  conflict: readonly string[];
}

/** The lead's unique key was taken: nothing of the flush was written. */
export class LeadTaken extends Error {
  constructor() {
    super('the lead row of a change journal was taken; nothing was written');
  }
}

/** The SQLSTATE of `billing_abort_statement` (migration 015). */
const ABORTED_STATEMENT = 'BL001';

const ABORT_IF_CLAIMED_WITHOUT_LEAD = `CASE WHEN (SELECT count(*) FROM held) > 0 AND (SELECT count(*) FROM lead) = 0
  THEN billing_abort_statement('the lead row was taken after the key was claimed') ELSE 0 END AS aborted`;

/**
 * The key's advisory lock is taken without waiting (`keyLockId`): a concurrent attempt at the same key finds it held
 * and answers "in flight" at once, instead of waiting on this statement's uncommitted row.
 */
const CLAIM_SQL = `held AS (
  INSERT INTO idempotency_keys (scope, key, method, request_hash, state, owner, created_at, locked_until, expires_at,
    response)
  SELECT ?, ?, ?, ?, 'DONE', ?, now(), now(), now() + make_interval(secs => ?), ?::bytea
  WHERE ${TRY_KEY_LOCK_SQL}
  ON CONFLICT (scope, key) DO NOTHING
  RETURNING 1)`;

const HELD_SQL = `held AS (
  SELECT 1 FROM idempotency_keys WHERE scope = ? AND key = ? AND owner = ? AND state = 'IN_FLIGHT' FOR UPDATE)`;

function leadSql(lead: JournalLead, condition: string): string {
  return `lead AS (
  INSERT INTO ${lead.table} (${lead.columns.join(', ')}) SELECT ${lead.values}${condition}
  ON CONFLICT (${lead.conflict.join(', ')}) DO NOTHING
  RETURNING 1)`;
}

const EVENT_COLUMNS =
  '(ord, event_id, type, stream, key, storefront_id, tenant_id, provider, aggregate_id, occurred_at, payload, ' +
  'traceparent, tracestate)';
const EVENT_TYPES = '(?::int, ?, ?, ?, ?, ?, ?, ?, ?, ?::timestamptz, ?::bytea, ?, ?)';
const EVENT_ROW = '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)';

function eventsSql(count: number, condition: string): string {
  const rows = [EVENT_TYPES, ...Array<string>(count - 1).fill(EVENT_ROW)].join(', ');
  return `ev${EVENT_COLUMNS} AS (VALUES ${rows}),
counted AS (SELECT key, count(*) AS n FROM ev${condition} GROUP BY key),
counters AS (
  INSERT INTO event_sequences (key, last_sequence) SELECT key, n FROM counted ORDER BY key
  ON CONFLICT (key) DO UPDATE SET last_sequence = event_sequences.last_sequence + excluded.last_sequence
  RETURNING key, last_sequence),
numbered AS (
  SELECT ev.*, counters.last_sequence - counted.n + row_number() OVER (PARTITION BY ev.key ORDER BY ev.ord) AS sequence
  FROM ev JOIN counted USING (key) JOIN counters USING (key)),
written AS (
  INSERT INTO outbox (event_id, type, stream, key, storefront_id, tenant_id, provider, aggregate_id, sequence,
    occurred_at, payload, traceparent, tracestate)
  SELECT event_id, type, stream, key, storefront_id, tenant_id, provider, aggregate_id, sequence, occurred_at,
    payload || billing_event_sequence_field(sequence), traceparent, tracestate
  FROM numbered ORDER BY ord
  RETURNING 1)`;
}

const AUDIT_TYPES = '(?::timestamptz, ?, ?, ?, ?, ?, ?, ?::jsonb)';
const AUDIT_ROW = '(?, ?, ?, ?, ?, ?, ?, ?)';

function auditSql(count: number, condition: string): string {
  const rows = [AUDIT_TYPES, ...Array<string>(count - 1).fill(AUDIT_ROW)].join(', ');
  return `audited AS (
  INSERT INTO audit_log (occurred_at, actor, correlation_id, action, resource_type, resource_id, storefront_id, details)
  ${condition ? `SELECT * FROM (VALUES ${rows}) AS entries${condition}` : `VALUES ${rows}`}
  RETURNING 1)`;
}

const COMPLETION_SQL = `completed AS (
  UPDATE idempotency_keys SET state = 'DONE', response = ?::bytea
  WHERE scope = ? AND key = ? AND owner = ? AND state = 'IN_FLIGHT'`;
