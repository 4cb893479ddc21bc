import type { ActorContext, Repositories, ResponseRecorder } from '../ports/store.port';

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
  /** Present when the call has an idempotency key: how the call's response and provider effects are recorded. */
  completion?: CallCompletion;
}

/**
 * A provider effect that cannot be undone (a refund, a checkout, a cancellation), recorded and committed after every
 * local check passed and before the provider is called. A retry with the same key finds it and resumes: it asks the
 * provider what became of it instead of asking for it again.
 */
export interface PendingEffect {
  /** The provider operation, e.g. `refund`. */
  operation: string;
  /** Our id for the object the effect creates or changes: the same on every attempt of one key. */
  subjectId: string;
  /** The provider's id for it, once the provider has answered. */
  providerRef?: string;
  /** What was asked for where a retry cannot derive it again from its request (a refund's whole remainder). */
  detail?: Record<string, string>;
}

/**
 * How a keyed mutating call completes. The use case's final transaction records the response (the unit of work
 * calls `record` when a transaction is given the call's context), so the change and its stored response commit
 * together: a crash leaves either both or neither.
 */
export interface CallCompletion extends ResponseRecorder {
  /** The effect an earlier attempt with this key recorded and did not finish, if any. */
  readonly pending?: PendingEffect;
  /** Commits `effect` before the provider is called (and again once the provider's id is known). */
  begin(effect: PendingEffect): Promise<void>;
  /** Stores the response for the use case's `result` in the transaction `repos` belong to. */
  record(repos: Pick<Repositories, 'idempotency'>, result: unknown): Promise<void>;
  /** How the use case's result becomes the response; the RPC's handler declares it before the use case runs. */
  respondWith(respond: (result: unknown) => unknown): void;
}

/** A context for work the service starts itself (seeding, schedulers). */
export function systemContext(correlationId: string): CallContext {
  return { actor: 'system', correlationId, signal: new AbortController().signal };
}
