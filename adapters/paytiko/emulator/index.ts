import { ApiFaults, FailNext } from '../../kit/emulator/faults';
import { PendingWork } from '../../kit/emulator/pending-work';
import { listedRetries } from '../../kit/emulator/retry-schedules';
import { type EmulatorMount, startEmulatorServer } from '../../kit/emulator/server';
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
/** How often work that fell due by wall time (renewals, retries, expiries) is looked for between requests. */
const TICK_MS = 1000;

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

  const ownServer = options.mount ? undefined : await startEmulatorServer({ host: options.host, port: options.port });
  const mount: EmulatorMount = options.mount ?? ownServer!.mount('');
  ctx.baseUrl = mount.baseUrl;
  const stopping = new AbortController();
  mount.attach(requestHandler(ctx, stopping.signal, mount.basePath));
  // Deliveries the last run left unfinished go on now that merchants are known again.
  ctx.webhooks.restore(webhookLog);
  const tick = setInterval(() => {
    if (runDue(ctx)) ctx.changed();
  }, TICK_MS);
  tick.unref();

  return {
    url: ctx.baseUrl,
    port: mount.port,
    idle: () => work.idle(),
    async stop() {
      clearInterval(tick);
      stopping.abort();
      ctx.webhooks.stop();
      work.cancelTimers();
      work.releaseAll();
      ctx.changed();
      stateFile.flush();
      mount.detach();
      await ownServer?.close();
    },
  };
}
