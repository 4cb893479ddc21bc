import { createHash } from 'node:crypto';
import { DomainError, invalidArgument } from '../domain/errors';
import type { IdempotencyStore } from '../store/idempotency-store';

/**
 * Runs a mutating call at most once per idempotency key. Same key + same request → the stored response;
 * same key + different request → INVALID_ARGUMENT; while the first call runs → ABORTED. A failed call frees the key.
 */
export class IdempotencyGuard {
  constructor(private readonly store: IdempotencyStore) {}

  async run(
    key: string,
    method: string,
    request: Uint8Array,
    execute: () => Promise<Uint8Array>,
  ): Promise<{ response: Uint8Array; replayed: boolean }> {
    const hash = createHash('sha256').update(method).update('\0').update(request).digest('hex');
    const claim = await this.store.claim(key, method, hash);
    switch (claim.outcome) {
      case 'replay':
        return { response: claim.response, replayed: true };
      case 'mismatch':
        throw invalidArgument([
          { field: 'idempotency-key', rule: `was already used with a different request (${claim.method})` },
        ]);
      case 'in_flight':
        throw new DomainError('ABORTED', 'idempotency-key: a call with this key is still in flight; retry later');
      case 'claimed':
        break;
    }
    let response: Uint8Array;
    try {
      response = await execute();
    } catch (error) {
      await this.store.release(key);
      throw error;
    }
    await this.store.complete(key, response);
    return { response, replayed: false };
  }
}
