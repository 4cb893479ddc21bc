import { randomUUID } from 'node:crypto';
import type { Knex } from 'knex';
import { ChangeJournal } from './change-journal';
import { keyLockId, TRY_KEY_LOCK_SQL } from './idempotency-key-lock';
import type { PendingEffect } from '../app/call-context';
import type { HeldIdempotencyKey, IdempotencyResponses, KeyClaimAtCommit } from '../ports/store.port';
import { asBytes, asJson } from './row-values';

/** What a claim on an idempotency key found. */
export type IdempotencyClaim =
  | { outcome: 'claimed'; owner: string; effect?: PendingEffect }
  | { outcome: 'in_flight' }
  | { outcome: 'mismatch'; method: string }
  | { outcome: 'replay'; response: Uint8Array };

export type HeldKey = HeldIdempotencyKey;

export interface IdempotencyOptions {
  /** How long keys are kept (at least 24 h by contract). */
  retentionMs: number;
  /**
   * How long a claim blocks other attempts without being renewed. The live owner renews it while its call runs, so
   * this only bounds how long a retry waits after the owner died (kill -9, lost replica).
   */
  leaseMs: number;
}

/**
 * Idempotency keys per tenant (scope). A claim is a short statement on the plain connection, never part of the use
 * case's transaction, so a concurrent retry sees "in flight" at once; the response is stored by the use case's own
 * final transaction (`KnexIdempotencyResponses`), fenced by the claim's owner.
 */
export class IdempotencyStore {
  constructor(
    private readonly knex: Knex,
    private readonly options: IdempotencyOptions,
  ) {}

  async claim(scope: string, key: string, method: string, requestHash: string): Promise<IdempotencyClaim> {
    const now = new Date();
    const owner = randomUUID();
    // The key's lock is held while another attempt's final statement claims the key (see idempotency-key-lock.ts).
    const result = await this.knex.raw(
      `WITH free AS (SELECT ${TRY_KEY_LOCK_SQL} AS free),
      inserted AS (
        INSERT INTO idempotency_keys (scope, key, method, request_hash, state, owner, created_at, locked_until,
          expires_at)
        SELECT ?, ?, ?, ?, 'IN_FLIGHT', ?, ?::timestamptz, now() + make_interval(secs => ?), ?::timestamptz
        FROM free WHERE free
        ON CONFLICT (scope, key) DO NOTHING
        RETURNING 1)
      SELECT (SELECT free FROM free) AS free, (SELECT count(*) FROM inserted) AS inserted`,
      [
        keyLockId(scope, key),
        scope,
        key,
        method,
        requestHash,
        owner,
        now,
        this.options.leaseMs / 1000,
        new Date(now.getTime() + this.options.retentionMs),
      ],
    );
    const { free, inserted } = result.rows[0];
    if (!free) return { outcome: 'in_flight' };
    if (Number(inserted) > 0) return { outcome: 'claimed', owner };

    const row = await this.knex('idempotency_keys').where({ scope, key }).first();
    if (!row) return this.claim(scope, key, method, requestHash); // expired and purged between the two statements
    if (new Date(row.expires_at) < now) {
      await this.knex('idempotency_keys').where({ scope, key }).andWhere('expires_at', '<', now).delete();
      return this.claim(scope, key, method, requestHash);
    }
    if (row.method !== method || row.request_hash !== requestHash) return { outcome: 'mismatch', method: row.method };
    if (row.state === 'DONE') return { outcome: 'replay', response: asBytes(row.response) };
    // Free (its attempt failed after recording an effect) or its owner stopped renewing: take it over. The request is
    // matched again, so a row another request claimed since the read above is never resumed for this one.
    const taken = await this.knex('idempotency_keys')
      .where({ scope, key, method, request_hash: requestHash, state: 'IN_FLIGHT' })
      .andWhere((q) => q.whereNull('owner').orWhere('locked_until', '<', this.knex.fn.now()))
      .update({ owner, locked_until: this.lease() })
      .returning('effect');
    if (taken.length === 0) return { outcome: 'in_flight' };
    const effect = taken[0].effect;
    return { outcome: 'claimed', owner, effect: effect ? asJson<PendingEffect>(effect) : undefined };
  }

  /** A claim for the call's final statement to make (see KeyClaimAtCommit); nothing is written here. */
  claimAtCommit(scope: string, key: string, method: string, requestHash: string): KeyClaimAtCommit {
    return { scope, key, method, requestHash, owner: randomUUID(), retentionMs: this.options.retentionMs };
  }

  /** Claims a new key with the response of a call whose use case committed nothing; false when the key exists. */
  async claimAfter(claim: KeyClaimAtCommit, response: Uint8Array): Promise<boolean> {
    // The journal's statement with nothing else to write is just the claim.
    return new ChangeJournal(this.knex).flush({ claim, response });
  }

  /** Extends the owner's lease; false when the key is no longer its own. */
  async renew(held: HeldKey): Promise<boolean> {
    const updated = await this.knex('idempotency_keys')
      .where({ ...held, state: 'IN_FLIGHT' })
      .update({ locked_until: this.lease() });
    return updated > 0;
  }

  /** Commits the attempt's provider effect; false when the key is no longer its own. */
  async recordEffect(held: HeldKey, effect: PendingEffect): Promise<boolean> {
    const updated = await this.knex('idempotency_keys')
      .where({ ...held, state: 'IN_FLIGHT' })
      .update({ effect: JSON.stringify(effect) });
    return updated > 0;
  }

  /** Stores the response of a call whose use case committed nothing (a no-op, a pure provider call). */
  async completeAfter(held: HeldKey, response: Uint8Array): Promise<boolean> {
    return new KnexIdempotencyResponses(this.knex).complete(held, response);
  }

  /**
   * Frees the key of a failed attempt, so the caller's retry runs at once. A key with a recorded effect is kept (the
   * provider may have acted): the retry takes it over and resumes the effect.
   */
  /**
   * Frees a key whose attempt failed. A recorded provider effect is kept for the retry to resume, unless
   * `effectSettled` says the provider definitively refused it (nothing happened there to resume).
   */
  async release(held: HeldKey, options: { effectSettled?: boolean } = {}): Promise<void> {
    const deleted = await this.knex('idempotency_keys')
      .where({ ...held, state: 'IN_FLIGHT' })
      .modify((q) => (options.effectSettled ? q : q.whereNull('effect')))
      .delete();
    if (deleted > 0) return;
    await this.knex('idempotency_keys')
      .where({ ...held, state: 'IN_FLIGHT' })
      .update({ owner: null, locked_until: new Date() });
  }

  async purgeExpired(): Promise<number> {
    return this.knex('idempotency_keys').where('expires_at', '<', new Date()).delete();
  }

  /** The end of a lease from now, by the database's clock: replicas whose clocks differ still agree on it. */
  private lease(): Knex.Raw {
    return this.knex.raw('now() + make_interval(secs => ?)', [this.options.leaseMs / 1000]);
  }
}

/**
 * Stores a keyed call's response in the caller's transaction, if that attempt still holds the key: in the statement
 * that writes the transaction's events and audit rows (its change journal), or on its own without one.
 */
export class KnexIdempotencyResponses implements IdempotencyResponses {
  constructor(
    private readonly db: Knex | Knex.Transaction,
    private readonly journal?: ChangeJournal,
  ) {}

  async complete(held: HeldKey, response: Uint8Array): Promise<boolean> {
    if (this.journal) return this.journal.flush({ held, response });
    const updated = await this.db('idempotency_keys')
      .where({ ...held, state: 'IN_FLIGHT' })
      .update({ state: 'DONE', response: Buffer.from(response) });
    return updated > 0;
  }

  async claimAndComplete(claim: KeyClaimAtCommit, response: Uint8Array): Promise<boolean> {
    // Without a journal (nothing else to write) the journal's statement is just the claim.
    return (this.journal ?? new ChangeJournal(this.db)).flush({ claim, response });
  }
}
