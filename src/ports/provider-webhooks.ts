import type { ProviderEvent } from './provider-event';

/** The raw webhook as it arrived. Header names are lower-case. */
export interface RawWebhook {
  headers: Record<string, string>;
  body: Buffer;
}

/** A webhook at the door, before it is stored: with the sender's address, for checks that depend on it. */
export interface ReceivedWebhook extends RawWebhook {
  /** The sender's IP (canonical text; IPv4-mapped IPv6 as IPv4), after TRUSTED_PROXIES; `unknown` if unreadable. */
  remoteAddress: string;
}

/** The storefront's webhook secrets: the current one, and the previous one while a rotation is under way. */
export interface WebhookSecrets {
  current: string;
  previous?: string;
}

/** What verification may use: the storefront binding's webhook secrets and its non-secret config. */
export interface WebhookKeys {
  secrets: WebhookSecrets;
  /** The binding's provider config (e.g. a per-storefront timestamp tolerance, an allowlist). */
  config: Record<string, string>;
}

/** Outcome of a signature check; `reason` says why it failed without revealing any secret. */
export type WebhookVerdict = { ok: true } | { ok: false; reason: string };

/** The id and type the inbox stores with a verified webhook (unique on provider + storefront + id). */
export interface WebhookEnvelope {
  providerEventId: string;
  eventType: string;
  /**
   * Where the provider orders its events (e.g. per customer): webhooks with the same key are processed one at a
   * time, in `sequence` order. Absent → processed independently.
   */
  orderingKey?: string;
  /** The provider's sequence number within the ordering key: digits only, compared numerically (beyond 2^53). */
  sequence?: string;
}

/** Verifies and reads one provider's webhooks (signature → envelope → normalized events). */
export interface ProviderWebhooks {
  /**
   * Constant-time signature check with the current and previous secret; timestamp tolerance where signed. The
   * core has already checked the binding's source-IP allowlist, if any; `remoteAddress` is there for providers
   * whose checks need more than that.
   */
  verify(webhook: ReceivedWebhook, keys: WebhookKeys, now: Date): WebhookVerdict;
  /** The event id, type and ordering, read from a verified body. Throws INVALID_ARGUMENT when it is not an event. */
  envelope(webhook: RawWebhook): WebhookEnvelope;
  /** Normalizes a verified webhook into zero or more provider events (zero for types we do not act on). */
  parse(webhook: RawWebhook): ProviderEvent[];
}
