import type { BindingSpec } from '../domain/binding-rules';
import type { Violation } from '../domain/errors';
import type { Clock } from './clock.port';
import type { HttpTransport } from './http-transport.port';
import type { ProviderAdapter } from './provider-operations';

/**
 * What a provider's model looks like, so the core can branch on features and never on a provider's name. Each
 * answer is a documented fact of the provider (see the adapter's README), not a preference.
 */
export interface ProviderFeatures {
  /**
   * How plans are sold: by the provider's own price object (the binding's plans then need a reference, named here:
   * e.g. a price id or a bundle URN), or with the plan's terms inline on each call.
   */
  pricing: { by: 'reference'; referenceName: string } | { by: 'inline' };
  /**
   * `hosted`: the provider's page (redirect, or an embedded SDK session) where the customer pays;
   * `server_to_server`: we charge a stored payment method, the provider answers later (polled, maybe a 3-D Secure
   * step the caller must show).
   */
  checkout: 'hosted' | 'server_to_server';
  /** Checkout variants beyond a hosted subscription checkout: `embedded` (ui_mode), `payment` (one-time), promotion codes. */
  checkoutVariants: readonly ('embedded' | 'payment' | 'promotion_code')[];
  /** `native`: the provider schedules it; `emulated`: our scheduler cancels just before the period boundary. */
  cancelAtPeriodEnd: 'native' | 'emulated';
  /** `derived`: from the plan's features while access lasts; `native`: the provider's entitlement events decide. */
  entitlements: 'derived' | 'native';
  /**
   * `state`: a verified webhook's body is the provider's state, applied as sent; `notification`: the signature does
   * not cover the state (e.g. it signs only the order id), so the object is fetched before anything is applied.
   */
  webhooks: 'state' | 'notification';
  /**
   * Who charges renewals. `provider`: the provider on its own schedule; `merchant`: our scheduler asks for each
   * charge with the saved payment token. Several: the binding's `renewals` setting chooses (first is the default).
   */
  renewals: readonly ('provider' | 'merchant')[];
  /**
   * `native`: the provider runs a plan's free trial; `none`: it has no trials, so a plan with trial days is refused
   * on a storefront bound to it (never sold without its trial).
   */
  trials: 'native' | 'none';
}

/** What the service hands a provider module when it builds the adapter. */
export interface ProviderDeps {
  clock: Clock;
  /** A pino-compatible child logger named for the provider. Never give it secrets. */
  logger: ProviderLogger;
  /** The kit's HTTP transport (retries, deadline, span, scrubbing). */
  http: HttpTransport;
}

/** The part of pino the adapters use. */
export interface ProviderLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/**
 * One provider, as `adapters/<provider>/index.ts` exports it: its id, what a binding holds, its features, and the
 * factory of its adapter. The registry loads these; the core imports none of them.
 */
export interface ProviderModule {
  /** Stable provider id used in bindings, pins, webhook paths and events: lower case, e.g. the folder's name. */
  readonly id: string;
  /** What a binding holds: settings, secret names, documented hosts, webhook secret names. */
  readonly binding: BindingSpec;
  /** Provider-specific binding rules beyond the spec (required keys, value shapes). Empty when valid. */
  validateBinding?(config: Record<string, string>, secretRefs: Record<string, string>): Violation[];
  readonly features: ProviderFeatures;
  /** The binding's secret names that hold webhook secrets: current first, then previous during a rotation. */
  readonly webhookSecretNames?: { current: string; previous: string };
  /** Builds the adapter; called once at start-up. Absent while the provider is not implemented. */
  create?(deps: ProviderDeps): ProviderAdapter;
}
