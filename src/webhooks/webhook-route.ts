import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type http from 'node:http';
import type { Logger } from 'pino';
import type { IntakeAnswer } from '../app/inbound/webhook-intake';
import type { IpRange } from '../domain/ip-allowlist';
import type { ReceivedWebhook } from '../ports/provider-adapter.port';
import { sourceAddress } from './source-address';

/** Webhook bodies above this are refused before anything else is looked at. */
export const MAX_WEBHOOK_BYTES = 1024 * 1024;

export const WEBHOOK_PATH = /^\/webhooks\/([a-z][a-z0-9-]*)\/([a-z0-9][a-z0-9-]{1,62})$/;

export type WebhookReceiver = (
  provider: string,
  storefrontId: string,
  webhook: ReceivedWebhook,
) => Promise<IntakeAnswer>;

const tracer = trace.getTracer('billing-adapter/webhooks');

/**
 * `POST /webhooks/{provider}/{storefrontId}`: size limit (413) first, then the receiver does storefront (404),
 * source-IP allowlist (403), signature (401) and the inbox insert; 200 only after the insert is durable. The
 * sender's address is the socket's peer, or what a trusted proxy says it is (source-address.ts).
 */
export function handleWebhook(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  match: RegExpExecArray,
  receive: WebhookReceiver,
  logger?: Logger,
  trustedProxies: readonly IpRange[] = [],
): void {
  const [, provider, storefrontId] = match as unknown as [string, string, string];
  const send = (status: number, body: Record<string, unknown>) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(body));
  };
  const tooLarge = () => {
    // Refuse before reading on; close so the sender cannot keep streaming.
    res.setHeader('connection', 'close');
    send(413, { error: `body exceeds ${MAX_WEBHOOK_BYTES} bytes` });
    req.destroy();
  };
  if (Number(req.headers['content-length'] ?? 0) > MAX_WEBHOOK_BYTES) return tooLarge();

  // A sender that disconnects mid-body is nobody's error; unheard, the stream's 'error' would end the process.
  req.on('error', () => undefined);
  const chunks: Buffer[] = [];
  let size = 0;
  let refused = false;
  req.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_WEBHOOK_BYTES && !refused) {
      refused = true;
      tooLarge();
    } else if (!refused) chunks.push(chunk);
  });
  req.on('end', () => {
    if (refused) return;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
    }
    const remoteAddress = sourceAddress(req.socket.remoteAddress, headers['x-forwarded-for'], trustedProxies);
    const parent = propagation.extract(context.active(), headers);
    void tracer.startActiveSpan(
      'webhook.receive',
      { kind: SpanKind.SERVER, attributes: { 'billing.provider': provider, 'billing.storefront_id': storefrontId } },
      parent,
      async (span) => {
        try {
          const body = Buffer.concat(chunks);
          const answer = await receive(provider, storefrontId, { headers, body, remoteAddress });
          span.setAttribute('http.response.status_code', answer.status);
          if (answer.status >= 400) {
            // Why it was refused, never the body or headers: they are the sender's, possibly hostile, text.
            logger?.warn(
              {
                provider,
                storefront_id: storefrontId,
                status: answer.status,
                reason: answer.body.error,
                source_ip: remoteAddress,
              },
              'webhook refused',
            );
          }
          send(answer.status, answer.body);
        } catch (error) {
          span.setStatus({ code: SpanStatusCode.ERROR, message: (error as Error).message });
          logger?.error({ provider, storefront_id: storefrontId, err: error }, 'webhook could not be stored');
          send(503, { error: 'could not store the webhook; retry later' });
        } finally {
          span.end();
        }
      },
    );
  });
}
