import type { WebhookEvent } from '../../kit/emulator/webhook-sender';
import type { EmulatorContext } from './context';
import type { StateSnapshot } from './state';

/** The state file: the objects, the clock offset, the last id, and the webhook log (undelivered ones resume). */
interface SubotizStateFile {
  state: StateSnapshot;
  webhooks: WebhookEvent[];
}

/** What is written to disk. */
export function snapshotState(ctx: EmulatorContext): SubotizStateFile {
  return { state: ctx.state.snapshot(), webhooks: ctx.webhooks.snapshot() };
}

/** Takes back what a previous run wrote; answers its webhook log, to resume once merchants are configured. */
export function restoreState(ctx: EmulatorContext, saved: unknown): WebhookEvent[] {
  const file = saved as Partial<SubotizStateFile>;
  if (typeof file !== 'object' || file === null || typeof file.state !== 'object') {
    throw new Error('emulator state file does not hold a Subotiz emulator state');
  }
  ctx.state.restore(file.state);
  return file.webhooks ?? [];
}
