import type { Knex } from 'knex';
import type { DeadLetter, InboxEntry, NewInboxEntry, PageRequest, WebhookInbox } from '../ports/store.port';
import type { ChangeJournal } from './change-journal';
import { InboxBatchWriter, insertInboxRows } from './inbox-batch-writer';
import { asBytes, asJson, asNumber, asOptionalDate, countOf } from './row-values';
import { storedError } from './stored-error';

type Row = Record<string, unknown>;

/**
 * The marked row's key has now been applied up to its sequence (processed, ignored or dead-lettered alike: either way
 * the key moves on). Never backwards: a late row leaves the position where it is. Reads the CTE `marked`; its one
 * parameter is the time.
 */
const ADVANCE_POSITION_OF_MARKED = `
  INSERT INTO webhook_order_positions (provider, storefront_id, ordering_key, sequence, updated_at)
  SELECT provider, storefront_id, ordering_key, sequence, ? FROM marked
   WHERE ordering_key IS NOT NULL AND sequence IS NOT NULL
  ON CONFLICT (provider, storefront_id, ordering_key) DO UPDATE
    SET sequence = GREATEST(webhook_order_positions.sequence, excluded.sequence), updated_at = excluded.updated_at`;

/**
 * The rows held back behind the marked row (scheduleRetry) go back to the claim's walk: their key moves on. Reads the
 * CTE `marked`, which must return the row's id; the marked row itself is left to its own statement (one statement
 * must not update a row twice).
 */
const RELEASE_HELD_BEHIND_MARKED = `
  UPDATE webhook_inbox w SET held_back = false FROM marked m
   WHERE w.held_back AND w.status = 'PENDING' AND m.ordering_key IS NOT NULL AND w.id <> m.id
     AND w.provider = m.provider AND w.storefront_id = m.storefront_id AND w.ordering_key = m.ordering_key`;

/**
 * The row is processed and its key moves on. CTEs only (`marked`, `advanced`, `released`), so they can ride a change
 * journal's statement; bindings: processed at, outcome, id, then the time again.
 */
const MARK_PROCESSED = `marked AS (
  UPDATE webhook_inbox SET status = 'PROCESSED', processed_at = ?, last_error = NULL, outcome = ?
   WHERE id = ? RETURNING id, provider, storefront_id, ordering_key, sequence),
advanced AS (${ADVANCE_POSITION_OF_MARKED}),
released AS (${RELEASE_HELD_BEHIND_MARKED})`;

/** Retries wakeDue makes claimable at once, at most. */
const WAKE_BATCH = 1000;

/** The applied position of row `w`'s ordering key. */
const POSITION_OF_W = `SELECT p.sequence FROM webhook_order_positions p
   WHERE p.provider = w.provider AND p.storefront_id = w.storefront_id AND p.ordering_key = w.ordering_key`;

/**
 * The rows claimDue may take (see there): due, not held back by an earlier row of their key, and not waiting for a
 * missing one. Bindings: now, then the end of the gap wait. The status is a literal, not a parameter: as a prepared
 * statement's generic plan this still matches the partial indexes on PENDING rows; `status = $1` would not.
 */
const ELIGIBLE_ROW = `SELECT w.*, (${POSITION_OF_W}) AS order_position FROM webhook_inbox w
   WHERE w.status = 'PENDING' AND w.next_attempt_at <= ?
     AND (w.ordering_key IS NULL OR NOT EXISTS (
       SELECT 1 FROM webhook_inbox e
        WHERE e.status = 'PENDING' AND e.provider = w.provider AND e.storefront_id = w.storefront_id
          AND e.ordering_key = w.ordering_key
          AND (coalesce(e.sequence, -1), e.id) < (coalesce(w.sequence, -1), w.id)))
     AND (w.ordering_key IS NULL OR w.sequence IS NULL OR w.received_at <= ?
          OR w.sequence <= coalesce((${POSITION_OF_W}), 0) + 1)`;

/**
 * A storefront's turn: its oldest eligible row, locked unless another worker holds it (then the next). Rows waiting
 * for a retry, and rows held back behind a failing row of their key, are not walked
 * (webhook_inbox_claimable_not_waiting).
 */
const IN_TURN =
  'AND NOT w.held_back AND NOT w.waiting ORDER BY w.storefront_id, w.id LIMIT 1 FOR UPDATE OF w SKIP LOCKED';

/** The webhook inbox (raw bodies, unique per provider event) and the dead letters that failed processing. */
export class KnexWebhookInbox implements WebhookInbox {
  private batches?: InboxBatchWriter;

  constructor(
    private readonly db: Knex | Knex.Transaction,
    private readonly journal?: ChangeJournal,
  ) {}

  /**
   * Outside a transaction (ingress), concurrent inserts share one statement (InboxBatchWriter): each answer still
   * comes only after its row committed. Inside a caller's transaction, the row goes with that transaction.
   */
  async insert(entry: NewInboxEntry): Promise<boolean> {
    if (this.db.isTransaction) return (await insertInboxRows(this.db, [entry]))[0]!;
    this.batches ??= new InboxBatchWriter(this.db);
    return this.batches.insert(entry);
  }

  /**
   * Deletes up to `limit` webhooks processed before `before`, oldest first, and says how many. A redelivery of one
   * after that is stored and processed again, which applies nothing a second time (state never regresses and equal
   * states emit nothing), so the retention only needs to outlast providers' redelivery windows (days). Rows a dead
   * letter names stay. Rows another replica's purge holds are skipped, not waited for.
   *
   * No index on the times: the primary key is walked from the oldest row, and only up to the first row received at
   * or after `before` (ids follow receipt), which is found the same way. In steady state the rows before it are the
   * few that stay (pending, dead, named by a dead letter) and the ones to delete; without that bound the last batch
   * of each run walked every row kept. A row stamped after `now` (a replica whose clock runs ahead) does not set the
   * bound, or it would hold back every later row until that time.
   */
  async purgeProcessed(before: Date, limit: number, now = new Date()): Promise<number> {
    const result = await this.db.raw(
      `DELETE FROM webhook_inbox WHERE id IN (
         SELECT i.id FROM webhook_inbox i
          WHERE i.id < coalesce(
                  (SELECT r.id FROM webhook_inbox r WHERE r.received_at BETWEEN ? AND ? ORDER BY r.id LIMIT 1),
                  9223372036854775807)
            AND i.status = 'PROCESSED' AND i.processed_at < ?
            AND NOT EXISTS (SELECT 1 FROM dead_letters d WHERE d.inbox_id = i.id)
          ORDER BY i.id LIMIT ? FOR UPDATE SKIP LOCKED)
       RETURNING id`,
      [before, now, before, limit],
    );
    return (result as { rows: unknown[] }).rows.length;
  }

  /** Webhooks waiting to be processed, due or not (metrics). A literal status, as in claimDue. */
  async countPending(): Promise<number> {
    return countOf(this.db('webhook_inbox').whereRaw("status = 'PENDING'"));
  }

  /** Pending webhooks held back behind a failed one of their key (metrics; webhook_inbox_held_by_key). */
  async countHeldBack(): Promise<number> {
    return countOf(this.db('webhook_inbox').whereRaw("status = 'PENDING' AND held_back"));
  }

  /** Webhook dead letters not (yet) retried (metrics; parked events have their own gauge). */
  async countDeadLetters(): Promise<number> {
    return countOf(this.db('dead_letters').where('kind', 'webhook').whereNull('retried_at'));
  }

  /**
   * Moves the rows whose retry has come due back into the claim's walk (webhook_inbox_waiting_due), and says whether
   * any pending row is due (webhook_inbox_due), in one statement. Statuses are literals so a generic plan uses the
   * partial indexes too. Rows another statement holds (a retry being recorded, a release, another replica's wake) are
   * skipped, not waited for: the next poll takes them. At most WAKE_BATCH a poll, more than lanes process meanwhile.
   */
  async wakeDue(now: Date): Promise<boolean> {
    const { rows } = (await this.db.raw(
      `WITH woken AS (
         UPDATE webhook_inbox SET waiting = false
          WHERE id IN (
            SELECT id FROM webhook_inbox WHERE status = 'PENDING' AND waiting AND next_attempt_at <= ?
             ORDER BY next_attempt_at LIMIT ${WAKE_BATCH} FOR UPDATE SKIP LOCKED)
         RETURNING 1)
       SELECT EXISTS (SELECT 1 FROM woken)
           OR EXISTS (SELECT 1 FROM webhook_inbox WHERE status = 'PENDING' AND next_attempt_at <= ?) AS due`,
      [now, now],
    )) as { rows: { due: boolean }[] };
    return rows[0]!.due === true;
  }

  /**
   * A due pending row, locked, skipping rows other workers hold (replicas share the work). Storefronts take turns:
   * the claim takes the oldest eligible row of the first storefront after `afterStorefront` (the one this lane
   * served last) that has one, wrapping round to the first storefront. So a storefront whose webhooks flood in (a
   * tenant can sign as many as it likes for its own storefront) delays every other storefront's by at most one
   * webhook per turn, instead of by its whole backlog; alone, it still has every lane. Within a storefront, rows go
   * in order of receipt (id).
   *
   * A row with an ordering key is eligible only when no earlier row of its (provider, storefront, key) is still
   * PENDING — being processed (its status changes only when that transaction commits), due, or waiting to retry — so
   * one failing row holds back its own key and nothing else. Earlier = lower sequence (none counts as lowest), then
   * earlier receipt (id); a total order, so keys cannot deadlock. A dead-lettered row is no longer PENDING: its key
   * moves on, and replaying it later goes through the state machine, which refuses regressions.
   *
   * Rows that are present are not the whole story: the provider may not have delivered an earlier one yet. A row
   * with a key and a sequence is eligible when its sequence is at most the key's last applied one + 1 (none applied:
   * 1 is next; providers number from 1), or once it has waited `gapWaitMs` since it was received (the missing ones
   * may never come). The key's position at claim time comes with the entry (`orderPosition`), so processing can tell
   * a row after a gap from a late one.
   */
  async claimDue(now: Date, gapWaitMs = 0, afterStorefront = ''): Promise<InboxEntry | undefined> {
    const gapEnd = new Date(now.getTime() - gapWaitMs);
    const eligible = [now, gapEnd];
    // The second turn is read only when the first finds nothing: PostgreSQL runs a WITH query only as far as its
    // reader fetches, so the wrap-round costs (and locks) nothing while a later storefront has work. The row is
    // taken from the locking query itself: read again by id, it would be the statement's snapshot of it, older
    // than the version locked when another lane's retry was recorded meanwhile (its attempts not counted).
    const { rows } = (await this.db.raw(
      `WITH later AS (${ELIGIBLE_ROW} AND w.storefront_id > ? ${IN_TURN}),
            wrapped AS (${ELIGIBLE_ROW} AND w.storefront_id <= ? ${IN_TURN}),
            chosen AS (SELECT * FROM later UNION ALL SELECT * FROM wrapped LIMIT 1)
       SELECT * FROM chosen`,
      [...eligible, afterStorefront, ...eligible, afterStorefront],
    )) as { rows: Row[] };
    return rows[0] ? toEntry(rows[0]) : undefined;
  }

  /**
   * Marks the row processed, advances its key's position and releases the rows held back behind it, in one
   * statement: with a journal, the one that writes the transaction's events at its end (a round trip less per
   * processed webhook).
   */
  async markProcessed(id: string, at: Date, outcome?: string): Promise<void> {
    const bindings = [at, outcome === undefined ? null : storedError(outcome), id, at];
    const rider = { name: 'markProcessed', ctes: MARK_PROCESSED, bindings };
    if (this.journal) return this.journal.ride(rider);
    await this.db.raw(`WITH ${rider.ctes}\nSELECT 1`, rider.bindings);
  }

  private async advancePosition(id: string, at: Date): Promise<void> {
    await this.db.raw(
      `WITH marked AS (SELECT id, provider, storefront_id, ordering_key, sequence FROM webhook_inbox WHERE id = ?),
       advanced AS (${ADVANCE_POSITION_OF_MARKED})
       ${RELEASE_HELD_BEHIND_MARKED}`,
      [id, at],
    );
  }

  /**
   * Records a failed attempt. The failure is recorded after its transaction rolled back, which released the row:
   * another lane or replica may have processed it meanwhile, so only a row still PENDING takes it.
   *
   * The later pending rows of its ordering key cannot be claimed until it succeeds or becomes a dead letter, so they
   * are marked held back and the claim no longer walks them (a provider failing for one key could leave thousands
   * behind it, each read by every claim passing the storefront). Marking happens while the failed row is still
   * PENDING, locked by this statement, and releasing (markProcessed, deadLetter) changes that row first, so the two
   * cannot interleave. Rows of the key received after this are walked until its next failure marks them too. The
   * failed row itself waits out of the walk as well (`waiting`) until wakeDue finds its retry due: with a provider down
   * for a storefront, each failing key's row was read by every claim passing that storefront. A retry due at once
   * (`nextAttemptAt` not after `now`: a transaction conflict) waits for nothing and holds nothing: it would release
   * them at once, each row rewritten twice for nothing.
   */
  async scheduleRetry(id: string, attempts: number, error: string, nextAttemptAt: Date, now?: Date): Promise<void> {
    const holds = now === undefined || nextAttemptAt.getTime() > now.getTime();
    await this.db.raw(
      `WITH failed AS (
         UPDATE webhook_inbox SET attempts = ?, last_error = ?, next_attempt_at = ?, waiting = ?::boolean
          WHERE id = ? AND status = 'PENDING'
          RETURNING id, provider, storefront_id, ordering_key, sequence)
       UPDATE webhook_inbox w SET held_back = true FROM failed f
        WHERE ?::boolean AND f.ordering_key IS NOT NULL AND w.status = 'PENDING' AND NOT w.held_back
          AND w.provider = f.provider AND w.storefront_id = f.storefront_id AND w.ordering_key = f.ordering_key
          AND (coalesce(w.sequence, -1), w.id) > (coalesce(f.sequence, -1), f.id)`,
      [attempts, storedError(error), nextAttemptAt, holds, id, holds],
    );
  }

  async deadLetter(
    entry: InboxEntry,
    attempts: number,
    error: string,
    at: Date,
    deadLetterId: string,
  ): Promise<boolean> {
    const updated = await this.db('webhook_inbox')
      .where({ id: entry.id, status: 'PENDING' })
      .update({ status: 'DEAD', attempts, last_error: storedError(error) });
    if (updated === 0) return false;
    await this.advancePosition(entry.id, at);
    await this.db('dead_letters').insert({
      id: deadLetterId,
      inbox_id: entry.id,
      provider: entry.provider,
      storefront_id: entry.storefrontId,
      provider_event_id: entry.providerEventId,
      event_type: entry.eventType,
      error: storedError(error),
      attempts,
      received_at: entry.receivedAt,
      last_attempt_at: at,
    });
    return true;
  }

  async listDeadLetters(filter: { storefrontId?: string; provider?: string }, page: PageRequest) {
    const query = this.db('dead_letters').whereNull('retried_at').orderBy('id').limit(page.size);
    if (filter.storefrontId) query.where('storefront_id', filter.storefrontId);
    if (filter.provider) query.where('provider', filter.provider);
    if (page.afterId) query.where('id', '>', page.afterId);
    return (await query).map(toDeadLetter);
  }

  async getDeadLetter(id: string, options?: { forUpdate?: boolean }): Promise<DeadLetter | undefined> {
    const query = this.db('dead_letters').where({ id }).first();
    const row = await (options?.forUpdate ? query.forUpdate() : query);
    return row ? toDeadLetter(row) : undefined;
  }

  async requeueDeadLetter(id: string, at: Date): Promise<void> {
    const letter = await this.db('dead_letters').where({ id }).update({ retried_at: at }).returning('inbox_id');
    const inboxId = letter[0]?.inbox_id;
    // An event's dead letter has no inbox row (see DeadLetterUseCases.retry).
    if (inboxId === undefined || inboxId === null) return;
    await this.db('webhook_inbox').where({ id: inboxId }).update({
      status: 'PENDING',
      attempts: 0,
      next_attempt_at: at,
      last_error: null,
      held_back: false,
      waiting: false,
    });
  }
}

function toEntry(row: Row): InboxEntry {
  return {
    id: String(row.id),
    provider: row.provider as string,
    storefrontId: row.storefront_id as string,
    providerEventId: row.provider_event_id as string,
    eventType: row.event_type as string,
    headers: asJson(row.headers),
    body: Buffer.from(asBytes(row.body)),
    attempts: asNumber(row.attempts),
    traceparent: (row.traceparent as string | null) ?? undefined,
    receivedAt: new Date(row.received_at as string),
    orderingKey: (row.ordering_key as string | null) ?? undefined,
    sequence: row.sequence === null || row.sequence === undefined ? undefined : String(row.sequence),
    orderPosition:
      row.order_position === null || row.order_position === undefined ? undefined : String(row.order_position),
    sourceIp: (row.source_ip as string | null) ?? undefined,
  };
}

function toDeadLetter(row: Row): DeadLetter {
  return {
    id: row.id as string,
    kind: row.kind === 'event' ? 'event' : 'webhook',
    inboxId: row.inbox_id === null || row.inbox_id === undefined ? undefined : String(row.inbox_id),
    eventId: (row.event_id as string | null) ?? undefined,
    eventKey: (row.event_key as string | null) ?? undefined,
    provider: row.provider as string,
    storefrontId: row.storefront_id as string,
    providerEventId: row.provider_event_id as string,
    eventType: row.event_type as string,
    error: row.error as string,
    attempts: asNumber(row.attempts),
    receivedAt: new Date(row.received_at as string),
    lastAttemptAt: new Date(row.last_attempt_at as string),
    retriedAt: asOptionalDate(row.retried_at),
  };
}
