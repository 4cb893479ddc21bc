import { randomUUID } from 'node:crypto';
import { notFound } from '../../domain/errors';
import type { Clock } from '../../ports/clock.port';
import type { ActorContext, Repositories, UnitOfWork } from '../../ports/store.port';
import type { EventOrigin, ProviderEventApplier } from '../inbound/provider-events';
import type { ProviderConnection, ProviderGateway } from '../providers/provider-gateway';

/**
 * One kind of row the reconciler asks providers about. A sweep asks the provider first, with no transaction open,
 * then locks the row with SKIP LOCKED (replicas share the work; a row settled meanwhile is skipped) and applies what
 * it learnt through the same appliers and state machine as webhooks.
 */
export interface Sweep {
  /** Label in logs, spans, metrics and `reconcile_failures`. */
  readonly kind: string;
  /** Rows due by `now`, most overdue first. */
  due(now: Date, limit: number): Promise<string[]>;
  /** Asks and applies; returns what happened (logged). Throws when the provider could not be asked. */
  settle(id: string, now: Date, signal?: AbortSignal): Promise<string>;
  /** After a failed check: ask again later. */
  postpone(id: string): Promise<void>;
  /** After too many failed checks: stop asking about the row. */
  park(id: string): Promise<void>;
}

export interface SweepSettings {
  /** When a checkout is still open at the provider, or a check failed: how long before asking again. */
  recheckAfterMs: number;
  /** Bound on all provider calls made for one row. */
  providerTimeoutMs: number;
}

/** What every sweep is built from. */
export interface SweepDeps {
  uow: UnitOfWork;
  gateway: ProviderGateway;
  applier: ProviderEventApplier;
  clock: Clock;
  settings: SweepSettings;
}

/** A row's storefront's provider, and who the changes are recorded as. */
export interface SweepLink {
  connection: ProviderConnection;
  origin: EventOrigin;
  source: ActorContext;
}

const ACTOR = 'system:reconciler';

/** The parking time of a row a sweep gave up on: its due column points past any sweep's `now`. */
export const NEVER = new Date('9999-12-31T00:00:00Z');

/** Connects to the provider a row is pinned to, with the sweep's deadline (and shutdown) on every call. */
export async function connectSweep(
  deps: SweepDeps,
  repos: Repositories,
  storefrontId: string,
  provider: string,
  signal?: AbortSignal,
): Promise<SweepLink> {
  const storefront = await repos.storefronts.get(storefrontId);
  if (!storefront) throw notFound('storefront', storefrontId);
  const correlationId = randomUUID();
  const timeout = AbortSignal.timeout(deps.settings.providerTimeoutMs);
  const connection = await deps.gateway.connect(repos, storefront, provider, {
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  return {
    connection,
    origin: { provider, storefront, correlationId, features: connection.provider.features },
    source: { actor: ACTOR, correlationId },
  };
}

/** `recheckAfterMs` from now. */
export function recheckTime(deps: SweepDeps): Date {
  return new Date(deps.clock.now().getTime() + deps.settings.recheckAfterMs);
}
