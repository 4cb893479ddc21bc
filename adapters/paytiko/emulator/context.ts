import type { ApiFaults, FailNext } from '../../kit/emulator/faults';
import type { PendingWork } from '../../kit/emulator/pending-work';
import type { WebhookSender } from '../../kit/emulator/webhook-sender';
import type { EmulatorState } from './state';

/** What every part of a running Paytiko emulator shares. */
export interface EmulatorContext {
  state: EmulatorState;
  webhooks: WebhookSender;
  work: PendingWork;
  apiFaults: ApiFaults;
  /** The "fail next charges" control: recurring charges past the chargeEmitterQueue, and proration charges. */
  chargeFailures: FailNext;
  /** Known once served; hosted page URLs are built on it (mount path included). */
  baseUrl: string;
  /** The state changed: keep it on disk (debounced). */
  changed(): void;
}
