import { createHmac } from 'node:crypto';
import type { WebhookEndpoint } from '../../kit/emulator/webhook-sender';
import type { EmulatorState } from './state';

/**
 * A merchant's webhook endpoint with Subotiz's signature: `X-Timestamp` (ms), `X-Access-No`, and `X-Signature` = hex
 * HMAC-SHA256 of `${X-Timestamp}.${raw_body}` with the webhook secret. The timestamp is wall-clock time, not the
 * emulator clock: the receiver checks freshness against its own clock.
 */
export function merchantEndpoint(state: EmulatorState, accessNo: string): WebhookEndpoint | undefined {
  const merchant = state.merchants.get(accessNo);
  if (!merchant?.webhookUrl) return undefined;
  return {
    url: merchant.webhookUrl,
    headers(event) {
      const timestamp = String(Date.now());
      const signature = createHmac('sha256', merchant.webhookSecret).update(`${timestamp}.${event.body}`).digest('hex');
      return { 'X-Timestamp': timestamp, 'X-Access-No': merchant.accessNo, 'X-Signature': signature };
    },
  };
}
