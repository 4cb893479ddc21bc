import { createHash } from 'node:crypto';
import { DomainError, invalidArgument } from '../domain/errors';
import type { PendingEffect } from '../app/call-context';
import type { KeyClaimAtCommit } from '../ports/store.port';
import type { HeldKey, IdempotencyStore } from '../store/idempotency-store';

/** The attempt that holds a key while its call runs. */
export interface KeyAttempt {
  held: HeldKey;
  /** The effect an earlier attempt recorded and did not finish. */
  effect?: PendingEffect;
}

export interface IdempotencyGuardOptions {
  /** How often the live owner renews its lease (well within the store's lease). */
  renewEveryMs: number;
}

/** Lost the key to another attempt (this one stalled past its lease): the caller retries and gets that one's answer. */
export function keyTakenOver(): DomainError {
  return new DomainError('ABORTED', 'idempotency-key: another attempt took over this key; retry to get its result');
}

/**
 * Runs a mutating call at most once per tenant and key. Same key + same request → the stored response; same key +
 * different request → INVALID_ARGUMENT; while another live attempt holds the key → ABORTED. A failed call frees the
 * key (keeping a recorded provider effect for the retry to resume); a dead owner's lease lapses within seconds.
 */
export class IdempotencyGuard {
  constructor(
    readonly store: IdempotencyStore,
    private readonly options: IdempotencyGuardOptions,
  ) {}

  /** A claim for the call's final statement to make, for RPCs that claim their key at commit (no I/O here). */
  claimAtCommit(request: { scope: string; key: string; method: string; bytes: Uint8Array }): KeyClaimAtCommit {
    const { scope, key, method } = request;
    return this.store.claimAtCommit(scope, key, method, requestHash(method, request.bytes));
  }

  async run<R>(
    request: { scope: string; key: string; method: string; bytes: Uint8Array },
    execute: (attempt: KeyAttempt) => Promise<R>,
  ): Promise<{ replayed: true; response: Uint8Array } | { replayed: false; result: R }> {
    const { scope, key, method } = request;
    const claim = await this.store.claim(scope, key, method, requestHash(method, request.bytes));
    switch (claim.outcome) {
      case 'replay':
        return { replayed: true, response: claim.response };
      case 'mismatch':
        throw invalidArgument([
          { field: 'idempotency-key', rule: `was already used with a different request (${claim.method})` },
        ]);
      case 'in_flight':
        throw new DomainError('ABORTED', 'idempotency-key: a call with this key is still in flight; retry later');
      case 'claimed':
        break;
    }
    const held: HeldKey = { scope, key, owner: claim.owner };
    const renewal = setInterval(() => {
      // A failed renewal is not fatal: the final write is fenced by the owner, so a lost key can't store twice.
      this.store.renew(held).catch(() => undefined);
    }, this.options.renewEveryMs);
    renewal.unref();
    try {
      return { replayed: false, result: await execute({ held, effect: claim.effect }) };
    } catch (error) {
      // If this fails too, the lease lapses on its own.
      await this.store.release(held, { effectSettled: isDefinitiveRefusal(error) }).catch(() => undefined);
      throw error;
    } finally {
      clearInterval(renewal);
    }
  }
}

/** What a key is bound to: the method and the request's bytes (same key, other request → INVALID_ARGUMENT). */
function requestHash(method: string, bytes: Uint8Array): string {
  return createHash('sha256').update(method).update('\0').update(bytes).digest('hex');
}

/**
 * A refusal that leaves nothing to resume: a local check, or the provider's clear "no". A timeout, an outage or an
 * unexpected error may hide an effect the provider made, so those keep the recorded effect for the retry to ask about.
 */
function isDefinitiveRefusal(error: unknown): boolean {
  return error instanceof DomainError && !['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'ABORTED'].includes(error.code);
}
