import { hmacSha256Hex } from '../../kit/signatures';
import type { WebhookEndpoint } from '../../kit/emulator/webhook-sender';
import type { EmulatorState } from './state';

/**
 * `azotte-signature: t=<unix seconds>,v1=<hex>[,v1=<hex>…]` (item 34): one HMAC-SHA256 of `{t}.{raw body}` per
 * active secret, newest first.
 */
export function webhookSignature(secrets: readonly string[], timestampSeconds: number, body: string): string {
  const signatures = secrets.map((secret) => `v1=${hmacSha256Hex(secret, `${timestampSeconds}.${body}`)}`);
  return [`t=${timestampSeconds}`, ...signatures].join(',');
}

/**
 * Where a tenant's events go, signed per attempt with its secrets as they are then. `t` is wall time, not the
 * emulator clock: it says when the bytes were sent (the receiver's 300 s freshness window is about transport
 * replay), and a test that advances the emulator clock by a month must still have its deliveries accepted.
 */
export function tenantEndpoint(state: EmulatorState, tenantId: string): WebhookEndpoint | undefined {
  const tenant = state.tenants.get(tenantId);
  if (!tenant?.webhookUrl) return undefined;
  return {
    url: tenant.webhookUrl,
    headers: (event) => ({
      'azotte-signature': webhookSignature(tenant.webhookSecrets, Math.floor(Date.now() / 1000), event.body),
    }),
  };
}
