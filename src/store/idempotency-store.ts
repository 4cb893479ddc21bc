import type { Knex } from 'knex';
import { asBytes } from './row-values';

/** What a claim on an idempotency key found. */
export type IdempotencyClaim =
  | { outcome: 'claimed' }
  | { outcome: 'in_flight' }
  | { outcome: 'mismatch'; method: string }
  | { outcome: 'replay'; response: Uint8Array };

export interface IdempotencyOptions {
  /** How long keys are kept (at least 24 h by contract). */
  retentionMs: number;
  /** How long an in-flight claim blocks others before it is presumed dead (crashed replica) and taken over. */
  lockMs: number;
}

/**
 * Idempotency keys: claim before the work, store the encoded response after it. Claims are short statements on the
 * plain connection, never part of the use case's transaction, so a concurrent retry sees "in flight" at once.
 */
export class IdempotencyStore {
  constructor(
    private readonly knex: Knex,
    private readonly options: IdempotencyOptions,
  ) {}

  async claim(key: string, method: string, requestHash: string): Promise<IdempotencyClaim> {
    const now = new Date();
    const inserted = await this.knex('idempotency_keys')
      .insert({
        key,
        method,
        request_hash: requestHash,
        state: 'IN_FLIGHT',
        created_at: now,
        locked_until: new Date(now.getTime() + this.options.lockMs),
        expires_at: new Date(now.getTime() + this.options.retentionMs),
      })
      .onConflict('key')
      .ignore()
      .returning('key');
    if (inserted.length > 0) return { outcome: 'claimed' };

    const row = await this.knex('idempotency_keys').where({ key }).first();
    if (!row) return this.claim(key, method, requestHash); // expired and purged between the two statements
    if (new Date(row.expires_at) < now) {
      await this.knex('idempotency_keys').where({ key }).andWhere('expires_at', '<', now).delete();
      return this.claim(key, method, requestHash);
    }
    if (row.method !== method || row.request_hash !== requestHash) return { outcome: 'mismatch', method: row.method };
    if (row.state === 'DONE') return { outcome: 'replay', response: asBytes(row.response) };
    const takenOver = await this.knex('idempotency_keys')
      .where({ key, state: 'IN_FLIGHT' })
      .andWhere('locked_until', '<', now)
      .update({ locked_until: new Date(now.getTime() + this.options.lockMs) });
    return takenOver > 0 ? { outcome: 'claimed' } : { outcome: 'in_flight' };
  }

  async complete(key: string, response: Uint8Array): Promise<void> {
    await this.knex('idempotency_keys')
      .where({ key })
      .update({ state: 'DONE', response: Buffer.from(response) });
  }

  /** Frees a key whose call failed, so the caller's retry runs again. */
  async release(key: string): Promise<void> {
    await this.knex('idempotency_keys').where({ key, state: 'IN_FLIGHT' }).delete();
  }

  async purgeExpired(): Promise<number> {
    return this.knex('idempotency_keys').where('expires_at', '<', new Date()).delete();
  }
}
