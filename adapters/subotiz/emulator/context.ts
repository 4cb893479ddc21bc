import type { EmulatorContextBase } from '../../kit/emulator/emulator-context';
import type { FailNext } from '../../kit/emulator/faults';
import { rfc3339 } from './calendar';
import type { EmulatorState } from './state';

/**
 * What every part of a running emulator shares: the kit's context (its `chargeFailures` hit renewal, dunning and
 * merchant-initiated Create Trade charges) plus Subotiz's refunds and Request-Id replay.
 */
export interface EmulatorContext extends EmulatorContextBase<EmulatorState> {
  refundFailures: FailNext;
  refundSettleMs: number;
  /**
   * Whether a POST repeated with the same Request-Id answers the first reply (our assumption of Subotiz, on by
   * default). Tests turn it off to show that requests we never send twice (refunds, Create Trade) stay single
   * without it.
   */
  requestIdReplay: { enabled: boolean };
}

/** Sends a webhook for `accessNo`'s merchant, stamped with the emulator clock. `data` is snapshotted now. */
export function emit(ctx: EmulatorContext, accessNo: string, type: string, data: unknown): void {
  const id = ctx.state.ids.id();
  const created = rfc3339(ctx.state.now) ?? '';
  ctx.webhooks.publish({ id, type, destination: accessNo, created, body: JSON.stringify({ id, type, created, data }) });
}
