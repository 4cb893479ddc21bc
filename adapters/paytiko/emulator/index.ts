import { ApiFaults, FailNext } from '../../kit/emulator/faults';
import { PendingWork } from '../../kit/emulator/pending-work';
import { listedRetries } from '../../kit/emulator/retry-schedules';
import { serveEmulator } from '../../kit/emulator/serve-emulator';
import { StateFile } from '../../kit/emulator/state-file';
import { WebhookSender } from '../../kit/emulator/webhook-sender';
import { runDue } from './billing-engine';
import type { EmulatorContext } from './context';
import { EmulatorState } from './state';
import { restoreState, snapshotState } from './state-snapshot';
import { requestHandler } from './server';
import type { PaytikoEmulator, PaytikoEmulatorOptions } from './types';
import { membershipEndpoint } from './webhook-signing';

export type { PaytikoEmulator, PaytikoEmulatorMerchant, PaytikoEmulatorOptions } from './types';
export { webhookSignature } from './webhook-signing';
export { nextBoundary, type IntervalType } from './billing-dates';

const MINUTE_MS = 60_000;
/** The document's schedule: immediate, then +5 m, +30 m, +1 h, +2 h, +4 h, +8 h (7 attempts), then undeliverable. */
const WEBHOOK_RETRIES = [5, 30, 60, 120, 240, 480].map((minutes) => minutes * MINUTE_MS);

/**
 * Starts an emulator of Paytiko's subscriptions API as the wire contract describes it: on a port of its own, or
 * under `options.mount` on a shared emulator server. With `stateFile` it resumes where the last run stopped.
 */
export async function startPaytikoEmulator(options: PaytikoEmulatorOptions): Promise<PaytikoEmulator> {
  const state = new EmulatorState();
  const work = new PendingWork();
  const stateFile = new StateFile(options.stateFile);
  const ctx: EmulatorContext = {
    state,
    work,
    webhooks: new WebhookSender({
      endpoint: (membershipKey) => membershipEndpoint(state, membershipKey),
      retrySchedule: listedRetries(WEBHOOK_RETRIES),
      ordered: true,
      work,
      changed: () => ctx.changed(),
      destinationLabel: 'membership',
      retryClock: () => state.now,
    }),
    apiFaults: new ApiFaults(),
    chargeFailures: new FailNext({ code: 'Rejected', message: 'Insufficient funds.' }),
    baseUrl: '',
    changed: () => stateFile.changed(() => snapshotState(ctx)),
  };
  const saved = stateFile.load();
  const webhookLog = saved === undefined ? [] : restoreState(ctx, saved);
  for (const merchant of options.merchants) state.addMerchant(merchant);

  return serveEmulator({
    ctx,
    stateFile,
    mount: options.mount,
    host: options.host,
    port: options.port,
    requestHandler,
    runDue,
    // Deliveries the last run left unfinished go on now that merchants are known again.
    resume: () => ctx.webhooks.restore(webhookLog),
  });
}
