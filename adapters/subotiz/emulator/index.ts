import { FailNext, ApiFaults } from '../../kit/emulator/faults';
import { PendingWork } from '../../kit/emulator/pending-work';
import { exponentialRetries } from '../../kit/emulator/retry-schedules';
import { serveEmulator } from '../../kit/emulator/serve-emulator';
import { StateFile } from '../../kit/emulator/state-file';
import { WebhookSender } from '../../kit/emulator/webhook-sender';
import { runDue } from './billing-engine';
import type { EmulatorContext } from './context';
import { resumePendingRefunds } from './refunds';
import { requestHandler } from './server';
import { EmulatorState } from './state';
import { restoreState, snapshotState } from './state-snapshot';
import type { SubotizEmulator, SubotizEmulatorOptions } from './types';
import { merchantEndpoint } from './webhook-signing';

export type {
  BillingInterval,
  EmulatorMerchant,
  EmulatorPrice,
  SubotizEmulator,
  SubotizEmulatorOptions,
} from './types';

/** Subotiz retries a refused webhook after 1, 2, 4 … minutes, at most 4 h apart, 16 times (README). */
const MAX_RETRIES = 16;
const MAX_BACKOFF_BASES = 240;

/**
 * Starts an emulator of Subotiz's documented API (adapters/subotiz/README.md): on a port of its own, or under
 * `options.mount` on a shared emulator server. With `stateFile` it resumes where the last run stopped.
 */
export async function startSubotizEmulator(options: SubotizEmulatorOptions = {}): Promise<SubotizEmulator> {
  const state = new EmulatorState();
  const work = new PendingWork();
  const stateFile = new StateFile(options.stateFile);
  const ctx: EmulatorContext = {
    state,
    work,
    webhooks: new WebhookSender({
      endpoint: (accessNo) => merchantEndpoint(state, accessNo),
      retrySchedule: exponentialRetries(options.webhookRetryBaseMs ?? 60_000, MAX_BACKOFF_BASES, MAX_RETRIES),
      ordered: true,
      work,
      changed: () => ctx.changed(),
      destinationLabel: 'merchant',
    }),
    apiFaults: new ApiFaults(),
    chargeFailures: new FailNext({ code: 'card_declined', message: 'Your card was declined.' }),
    requestIdReplay: { enabled: true },
    refundFailures: new FailNext({ code: 'refund_failed', message: 'The refund was refused by the payment channel.' }),
    refundSettleMs: options.refundSettleMs ?? 0,
    baseUrl: '',
    changed: () => stateFile.changed(() => snapshotState(ctx)),
  };
  const saved = stateFile.load();
  const webhookLog = saved === undefined ? [] : restoreState(ctx, saved);
  for (const merchant of options.merchants ?? []) state.addMerchant(merchant);
  for (const price of options.prices ?? []) state.addPrice(price);

  const served = await serveEmulator({
    ctx,
    stateFile,
    mount: options.mount,
    host: options.host,
    port: options.port,
    requestHandler,
    runDue,
    // Deliveries and refunds the last run left unfinished go on now that the emulator can be reached.
    resume: () => {
      ctx.webhooks.restore(webhookLog);
      resumePendingRefunds(ctx);
    },
  });

  return {
    ...served,
    addMerchant: (merchant) => {
      state.addMerchant(merchant);
      ctx.changed();
    },
    addPrice: (price) => {
      state.addPrice(price);
      ctx.changed();
    },
  };
}
