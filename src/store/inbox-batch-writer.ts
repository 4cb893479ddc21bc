import type { Knex } from 'knex';
import type { NewInboxEntry } from '../ports/store.port';

/** Bounds of one statement (bodies are up to 1 MiB each) and of what may wait for the next ones. */
export interface InboxBatchLimits {
  maxRows: number;
  /** Approximate bytes of bodies and headers per statement; a single larger entry still goes, alone. */
  maxBytes: number;
  /**
   * Waiting entries beyond these are refused at once (the sender gets 503 and retries): while a statement hangs on
   * a stalled database, bodies must not pile up in memory without bound.
   */
  maxQueuedRows: number;
  maxQueuedBytes: number;
}

export const DEFAULT_INBOX_BATCH_LIMITS: InboxBatchLimits = {
  maxRows: 100,
  maxBytes: 4 * 1024 * 1024,
  maxQueuedRows: 2_000,
  maxQueuedBytes: 64 * 1024 * 1024,
};

/** Thrown to a caller refused because too much is already waiting for the database. */
export class InboxBacklogFull extends Error {
  constructor() {
    super('webhook inbox backlog is full; the database is not keeping up');
    this.name = 'InboxBacklogFull';
  }
}

interface Waiting {
  entry: NewInboxEntry;
  bytes: number;
  resolve(stored: boolean): void;
  reject(error: unknown): void;
}

const COLUMNS = [
  'provider',
  'storefront_id',
  'provider_event_id',
  'event_type',
  'ordering_key',
  'sequence',
  'source_ip',
  'headers',
  'body',
  'next_attempt_at',
  'traceparent',
  'received_at',
  'status',
  'processed_at',
  'outcome',
] as const;

/** One row's placeholders. */
const ROW = `(${COLUMNS.map(() => '?').join(', ')})`;

/**
 * Group commit of webhook inbox inserts: concurrent callers join one multi-row INSERT … ON CONFLICT DO NOTHING, so
 * ingress pays about one round trip per batch instead of one per webhook. No timer: the first arrival is written at
 * once, and whoever arrives while a statement is in flight waits for the next one (natural batching). Each caller is
 * answered only once its statement has committed (autocommit), so "stored" still means durable.
 *
 * Rows keep the order of arrival (ids are drawn in VALUES order), which the inbox's per-key ordering relies on.
 * A statement that fails rejects every caller in it and none other; the writer carries on with the next batch.
 */
export class InboxBatchWriter {
  private readonly queue: Waiting[] = [];
  private queuedBytes = 0;
  private writing = false;
  private readonly limits: InboxBatchLimits;

  constructor(
    private readonly db: Knex,
    limits: Partial<InboxBatchLimits> = {},
  ) {
    this.limits = { ...DEFAULT_INBOX_BATCH_LIMITS, ...limits };
  }

  /** True when the entry was stored now; false when its key was there already (or earlier in the same batch). */
  insert(entry: NewInboxEntry): Promise<boolean> {
    const bytes = approximateBytes(entry);
    if (
      this.queue.length >= this.limits.maxQueuedRows ||
      (this.queue.length > 0 && this.queuedBytes + bytes > this.limits.maxQueuedBytes)
    ) {
      return Promise.reject(new InboxBacklogFull());
    }
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ entry, bytes, resolve, reject });
      this.queuedBytes += bytes;
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.queue.length > 0) await this.write(this.nextBatch());
    } finally {
      this.writing = false;
    }
  }

  /** The oldest waiting entries, up to the row and byte caps (at least one, however large). */
  private nextBatch(): Waiting[] {
    let bytes = 0;
    let count = 0;
    for (const waiting of this.queue) {
      if (count > 0 && (count >= this.limits.maxRows || bytes + waiting.bytes > this.limits.maxBytes)) break;
      bytes += waiting.bytes;
      count += 1;
    }
    this.queuedBytes -= bytes;
    return this.queue.splice(0, count);
  }

  /** Never throws: a failure is every caller's in this batch, and the loop goes on to the next one. */
  private async write(batch: Waiting[]): Promise<void> {
    try {
      const stored = await insertInboxRows(
        this.db,
        batch.map((waiting) => waiting.entry),
      );
      batch.forEach((waiting, i) => waiting.resolve(stored[i]!));
    } catch (error) {
      for (const waiting of batch) waiting.reject(error);
    }
  }
}

/**
 * One INSERT … ON CONFLICT DO NOTHING of the entries, in their order; answers, per entry, whether it was stored now.
 * The same key twice among them: only the first is sent, so exactly one is stored and the others are duplicates
 * (all of them when the key was there already).
 */
export async function insertInboxRows(
  db: Knex | Knex.Transaction,
  entries: readonly NewInboxEntry[],
): Promise<boolean[]> {
  const keys = entries.map((e) => keyOf(e.provider, e.storefrontId, e.providerEventId));
  const firsts = new Map<string, number>();
  keys.forEach((key, i) => firsts.has(key) || firsts.set(key, i));
  const rows = [...firsts.values()].map((i) => entries[i]!);
  const result = await db.raw(
    `INSERT INTO webhook_inbox (${COLUMNS.join(', ')}) VALUES ${rows.map(() => ROW).join(', ')}
     ON CONFLICT (provider, storefront_id, provider_event_id) DO NOTHING
     RETURNING provider, storefront_id, provider_event_id`,
    rows.flatMap(values),
  );
  const stored = new Set(
    (result.rows as Array<Record<string, string>>).map((r) =>
      keyOf(r.provider!, r.storefront_id!, r.provider_event_id!),
    ),
  );
  return keys.map((key, i) => firsts.get(key) === i && stored.has(key));
}

function values(entry: NewInboxEntry): Knex.RawBinding[] {
  return [
    entry.provider,
    entry.storefrontId,
    entry.providerEventId,
    entry.eventType,
    entry.orderingKey ?? null,
    entry.sequence ?? null,
    entry.sourceIp ?? null,
    JSON.stringify(entry.headers),
    entry.body,
    entry.receivedAt,
    entry.traceparent ?? null,
    entry.receivedAt,
    entry.settledAs === undefined ? 'PENDING' : 'PROCESSED',
    entry.settledAs === undefined ? null : entry.receivedAt,
    entry.settledAs?.slice(0, 1000) ?? null,
  ];
}

/**
 * The unique key as the database will hold it: strings travel as UTF-8, where a lone surrogate becomes U+FFFD, so
 * such a key is converted the same way before it is compared with what RETURNING gives back.
 */
function keyOf(provider: string, storefrontId: string, providerEventId: string): string {
  return JSON.stringify([provider, storefrontId, providerEventId].map(asStored));
}

const SURROGATE = /[\uD800-\uDFFF]/;

function asStored(text: string): string {
  return SURROGATE.test(text) ? Buffer.from(text, 'utf8').toString('utf8') : text;
}

function approximateBytes(entry: NewInboxEntry): number {
  let bytes = entry.body.length + entry.providerEventId.length + entry.eventType.length + 256;
  for (const [name, value] of Object.entries(entry.headers)) bytes += name.length + value.length + 6;
  return bytes;
}
