import type { EmulatorContext } from './context';
import type { MembershipRecord } from './records';

/** What a charge attempt reports. */
export type ChargeOutcome = { success: true } | { success: false; reason: string };

const DEFAULT_DECLINE = 'Insufficient funds.';

/**
 * A recurring charge (renewal or dunning retry): the next chargeEmitterQueue item while any remain (the document),
 * then the "fail next charges" control, else Success.
 */
export function recurringOutcome(ctx: EmulatorContext, m: MembershipRecord): ChargeOutcome {
  const scripted = m.chargeQueue.shift();
  if (scripted) {
    return scripted.transactionStatus === 'Success'
      ? { success: true }
      : { success: false, reason: scripted.description };
  }
  return controlledOutcome(ctx);
}

/** A charge the queue does not script (proration): only the "fail next charges" control can fail it. */
export function controlledOutcome(ctx: EmulatorContext): ChargeOutcome {
  const failure = ctx.chargeFailures.take();
  return failure ? { success: false, reason: failure.message || DEFAULT_DECLINE } : { success: true };
}
