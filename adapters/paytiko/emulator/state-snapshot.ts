import type { WebhookEvent } from '../../kit/emulator/webhook-sender';
import type { EmulatorContext } from './context';
import type { StateSnapshot } from './state';

/** The state file: the records, the clock offset, the counters and the webhook log (undelivered ones resume). */
interface PaytikoStateFile {
  paytiko: StateSnapshot;
  webhooks: WebhookEvent[];
}

export function snapshotState(ctx: EmulatorContext): PaytikoStateFile {
  return { paytiko: ctx.state.snapshot(), webhooks: ctx.webhooks.snapshot() };
}

/** Takes back what a previous run wrote; answers its webhook log, to resume once the emulator is served. */
export function restoreState(ctx: EmulatorContext, saved: unknown): WebhookEvent[] {
  const file = saved as Partial<PaytikoStateFile>;
  if (typeof file !== 'object' || file === null || typeof file.paytiko !== 'object') {
    throw new Error('emulator state file does not hold a Paytiko emulator state');
  }
  ctx.state.restore(file.paytiko);
  return file.webhooks ?? [];
}
