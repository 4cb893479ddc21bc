import type { ApiFaults, FailNext } from '../../kit/emulator/faults';
import type { PendingWork } from '../../kit/emulator/pending-work';
import type { WebhookSender } from '../../kit/emulator/webhook-sender';
import { rfc3339 } from './calendar';
import type { EmulatorState } from './state';

/** What every part of a running emulator shares. */
export interface EmulatorContext {
  state: EmulatorState;
  webhooks: WebhookSender;
  work: PendingWork;
  apiFaults: ApiFaults;
  /** Renewal, dunning and merchant-initiated (Create Trade) charges that will fail (fail-next). */
  chargeFailures: FailNext;
  refundFailures: FailNext;
  refundSettleMs: number;
  /**
   * Whether a POST repeated with the same Request-Id answers the first reply (our assumption of Subotiz, on by
   * default). Tests turn it off to show that requests we never send twice (refunds, Create Trade) stay single
   * without it.
   */
  requestIdReplay: { enabled: boolean };
  /** Known once the emulator is served; session and portal URLs are built on it (it includes any mount path). */
  baseUrl: string;
  /** The state changed: keep it on disk (debounced). */
  changed(): void;
}

/** Sends a webhook for `accessNo`'s merchant, stamped with the emulator clock. `data` is snapshotted now. */
export function emit(ctx: EmulatorContext, accessNo: string, type: string, data: unknown): void {
  const id = ctx.state.ids.id();
  const created = rfc3339(ctx.state.now) ?? '';
  ctx.webhooks.publish({ id, type, destination: accessNo, created, body: JSON.stringify({ id, type, created, data }) });
}
