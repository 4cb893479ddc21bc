import type { ApiFaults, FailNext } from './faults';
import type { PendingWork } from './pending-work';
import type { EmulatorState } from './state';
import type { WebhookSender } from './webhook-sender';

/** What every part of a running emulator shares. */
export interface EmulatorContext {
  state: EmulatorState;
  webhooks: WebhookSender;
  work: PendingWork;
  apiFaults: ApiFaults;
  /** Renewal and dunning charges that will fail (fail-next). */
  chargeFailures: FailNext;
  refundFailures: FailNext;
  refundSettleMs: number;
  /** Known once the server listens; session and portal URLs are built on it. */
  baseUrl: string;
}

/** Sends a webhook for `accessNo`'s merchant, stamped with the emulator clock. `data` is snapshotted now. */
export function emit(ctx: EmulatorContext, accessNo: string, type: string, data: unknown): void {
  ctx.webhooks.publish(accessNo, type, ctx.state.now, data);
}
