import { ApiFaults, FailNext } from '../../kit/emulator/faults';
import { PendingWork } from '../../kit/emulator/pending-work';
import { exponentialRetries } from '../../kit/emulator/retry-schedules';
import { serveEmulator } from '../../kit/emulator/serve-emulator';
import { StateFile } from '../../kit/emulator/state-file';
import { WebhookSender } from '../../kit/emulator/webhook-sender';
import { runDue } from './billing-engine';
import type { EmulatorContext } from './context';
import { MessageCodeFaults } from './message-code-faults';
import { requestHandler } from './server';
import { putTenant, upsertCatalog } from './setup-controls';
import { EmulatorState } from './state';
import { restoreState, snapshotState } from './state-snapshot';
import type { AzotteEmulator, AzotteEmulatorOptions } from './types';
import { tenantEndpoint } from './webhook-signing';

export type {
  AzotteBundle,
  AzotteCampaign,
  AzotteCatalog,
  AzotteEmulator,
  AzotteEmulatorOptions,
  AzotteEmulatorTenant,
  AzotteStorefront,
} from './types';
export { webhookSignature } from './webhook-signing';

const MINUTE_MS = 60_000;
/** Item 37: retries after 1, 2, 4 … 512 minutes (10 retries, 11 attempts), then the dead-letter queue. */
const WEBHOOK_RETRIES = exponentialRetries(MINUTE_MS, 512, 10);

/**
 * Starts an emulator of Azotte's C2A API as the wire contract (adapters/azotte/README.md) describes it: on a port
 * of its own, or under `options.mount` on a shared emulator server. With `stateFile` it resumes where it stopped.
 */
export async function startAzotteEmulator(options: AzotteEmulatorOptions = {}): Promise<AzotteEmulator> {
  const state = new EmulatorState();
  const work = new PendingWork();
  const stateFile = new StateFile(options.stateFile);
  const ctx: EmulatorContext = {
    state,
    work,
    webhooks: new WebhookSender({
      endpoint: (tenant) => tenantEndpoint(state, tenant),
      retrySchedule: WEBHOOK_RETRIES,
      // One event at a time per customer (ordering key = customerUrn, item 36).
      ordered: true,
      work,
      changed: () => ctx.changed(),
      destinationLabel: 'tenant',
      // A delivery not answered with a 2xx within 30 s is a failed attempt (item 37).
      deliveryTimeoutMs: 30_000,
      retryClock: () => state.now,
    }),
    apiFaults: new ApiFaults(),
    chargeFailures: new FailNext({ code: 'CARD_DECLINED', message: 'The card was declined' }),
    messageCodeFaults: new MessageCodeFaults(),
    baseUrl: '',
    changed: () => stateFile.changed(() => snapshotState(ctx)),
  };
  const saved = stateFile.load();
  const webhookLog = saved === undefined ? [] : restoreState(ctx, saved);
  // The options' tenants and catalog are laid over what the file had (a demo re-seeds on every start).
  for (const tenant of options.tenants ?? []) putTenant(ctx, tenant);
  upsertCatalog(state.catalog, options.catalog ?? {});
  if (options.processingDelaySeconds !== undefined) state.processingDelaySeconds = options.processingDelaySeconds;

  return serveEmulator({
    ctx,
    stateFile,
    mount: options.mount,
    host: options.host,
    port: options.port,
    requestHandler,
    runDue,
    resume: () => ctx.webhooks.restore(webhookLog),
  });
}
