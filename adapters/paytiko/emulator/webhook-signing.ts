import { sha256Hex } from '../../kit/signatures';
import type { WebhookEndpoint } from '../../kit/emulator/webhook-sender';
import type { EmulatorState } from './state';

/** The document's signature: hex SHA-256 of `${secretKey}:${OrderId}` (it covers the order id only, not the body). */
export function webhookSignature(secretKey: string, orderId: string): string {
  return sha256Hex(`${secretKey}:${orderId}`);
}

/** Where a membership's events go: its own webhookUrl, signed with its merchant's secret key. */
export function membershipEndpoint(state: EmulatorState, membershipKey: string): WebhookEndpoint | undefined {
  const membership = state.memberships.get(membershipKey);
  const merchant = membership && state.merchants.get(membership.merchant);
  if (!membership || !merchant) return undefined;
  const signature = webhookSignature(merchant.secretKey, membership.orderId);
  return { url: membership.webhookUrl, headers: () => ({ Signature: signature }) };
}
