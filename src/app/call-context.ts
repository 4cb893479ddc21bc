import type { ActorContext } from '../ports/store.port';

/** What every use case knows about the call: who, which request, and until when. */
export interface CallContext extends ActorContext {
  /** Aborted when the caller's deadline passes or the call is cancelled. */
  signal: AbortSignal;
  /** The caller's `idempotency-key`, when sent; provider calls derive their own idempotency from it. */
  idempotencyKey?: string;
}

/** A context for work the service starts itself (seeding, schedulers). */
export function systemContext(correlationId: string): CallContext {
  return { actor: 'system', correlationId, signal: new AbortController().signal };
}
