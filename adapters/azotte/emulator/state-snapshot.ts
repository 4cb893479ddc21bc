import type { WebhookEvent } from '../../kit/emulator/webhook-sender';
import type { EmulatorContext } from './context';
import type { StateSnapshot } from './state';

/** The state file: the records, the clock offset, the counters and the webhook log (undelivered ones resume). */
interface AzotteStateFile {
  azotte: StateSnapshot;
  webhooks: WebhookEvent[];
}

export function snapshotState(ctx: EmulatorContext): AzotteStateFile {
  return { azotte: ctx.state.snapshot(), webhooks: ctx.webhooks.snapshot() };
}

/** Takes back what a previous run wrote; answers its webhook log, to resume once the emulator is served. */
export function restoreState(ctx: EmulatorContext, saved: unknown): WebhookEvent[] {
  const file = saved as Partial<AzotteStateFile>;
  if (typeof file !== 'object' || file === null || typeof file.azotte !== 'object') {
    throw new Error('emulator state file does not hold an Azotte emulator state');
  }
  ctx.state.restore(file.azotte);
  return file.webhooks ?? [];
}
