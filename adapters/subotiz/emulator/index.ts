import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { EmulatorContext } from './context';
import { ApiFaults, FailNext } from './faults';
import { PendingWork } from './pending-work';
import { requestListener } from './server';
import { EmulatorState } from './state';
import type { SubotizEmulator, SubotizEmulatorOptions } from './types';
import { WebhookSender } from './webhook-sender';

export type {
  BillingInterval,
  EmulatorMerchant,
  EmulatorPrice,
  SubotizEmulator,
  SubotizEmulatorOptions,
} from './types';

/** Starts an emulator of Subotiz's documented API (adapters/subotiz/README.md) on a real HTTP port. */
export async function startSubotizEmulator(options: SubotizEmulatorOptions = {}): Promise<SubotizEmulator> {
  const state = new EmulatorState();
  const work = new PendingWork();
  const ctx: EmulatorContext = {
    state,
    work,
    webhooks: new WebhookSender({
      merchant: (accessNo) => state.merchants.get(accessNo),
      newId: () => state.ids.id(),
      retryBaseMs: options.webhookRetryBaseMs ?? 60_000,
      work,
    }),
    apiFaults: new ApiFaults(),
    chargeFailures: new FailNext({ code: 'card_declined', message: 'Your card was declined.' }),
    refundFailures: new FailNext({ code: 'refund_failed', message: 'The refund was refused by the payment channel.' }),
    refundSettleMs: options.refundSettleMs ?? 0,
    baseUrl: '',
  };
  for (const merchant of options.merchants ?? []) state.addMerchant(merchant);
  for (const price of options.prices ?? []) state.addPrice(price);

  const stopping = new AbortController();
  const server = http.createServer(requestListener(ctx, stopping.signal));
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  ctx.baseUrl = `http://${urlHost(host)}:${port}`;

  return {
    url: ctx.baseUrl,
    port,
    addMerchant: (merchant) => state.addMerchant(merchant),
    addPrice: (price) => state.addPrice(price),
    idle: () => work.idle(),
    async stop() {
      stopping.abort();
      ctx.webhooks.stop();
      work.cancelTimers();
      work.releaseAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

// A wildcard bind address is not somewhere a client can connect to; loopback is.
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
