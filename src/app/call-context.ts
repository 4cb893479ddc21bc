import type { ActorContext } from '../ports/store.port';

/** What a caller may do: `service` its tenant's billing objects, `platform` also its storefronts, `admin` all. */
export type Role = 'service' | 'platform' | 'admin';

/** The authenticated caller of an RPC. */
export interface Caller {
  /** The key's or token's name; recorded as the audit actor. */
  name: string;
  tenant: string;
  role: Role;
}

/** What every use case knows about the call: who, which request, and until when. */
export interface CallContext extends ActorContext {
  /** Aborted when the caller's deadline passes or the call is cancelled. */
  signal: AbortSignal;
  /** The caller's `idempotency-key`, when sent; provider calls derive their own idempotency from it. */
  idempotencyKey?: string;
  /** The authenticated caller; absent only for work the service starts itself. */
  caller?: Caller;
}

/** A context for work the service starts itself (seeding, schedulers). */
export function systemContext(correlationId: string): CallContext {
  return { actor: 'system', correlationId, signal: new AbortController().signal };
}
