import type { ApiFaults, FailNext } from './faults';
import type { PendingWork } from './pending-work';
import type { PinnedClock } from './pinned-clock';
import type { WebhookSender } from './webhook-sender';

/** What every part of a running emulator shares, whatever the provider; a provider's context adds its own pieces. */
export interface EmulatorContextBase<S extends PinnedClock> {
  /** The provider's records, on the emulator clock. */
  state: S;
  webhooks: WebhookSender;
  work: PendingWork;
  apiFaults: ApiFaults;
  /** The "fail next charges" control: which charges it hits is the provider's (its README says). */
  chargeFailures: FailNext;
  /** Known once served; hosted page URLs are built on it (mount path included). */
  baseUrl: string;
  /** The state changed: keep it on disk (debounced). */
  changed(): void;
}
