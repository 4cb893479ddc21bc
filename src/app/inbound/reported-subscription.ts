import type { Subscription } from '../../domain/subscription';
import type { ObservedSubscription } from '../../domain/subscription-lifecycle';
import type { ProviderEvent } from '../../ports/provider-adapter.port';
import type { Repositories } from '../../ports/store.port';
import { takenFrom } from '../engine/subscription-changes';
import type { EventOrigin } from './event-origin';
import { planOf } from './object-lookup';

type SubscriptionReport = Extract<ProviderEvent, { kind: 'subscription' }>;

/** A webhook's state of a subscription, with the provider's reference it names. */
export type ReportedSubscription = ObservedSubscription & { ref: string };

/**
 * What a subscription webhook reports, as both halves of applying it judge it: the plan by our id, when it was true
 * (the window a coarse provider dates it to, when it says one), that it may arrive after a later state of that time
 * unless it is the next of its key's sequence after another report, and no flag the provider does not keep
 * (`takenFrom`). AskFirst must see the change the apply step will see: a report in doubt that finds no answer is
 * tried again, and would be on every retry. Reads only.
 */
export async function reportedState(
  repos: Repositories,
  origin: EventOrigin,
  subscription: Subscription,
  event: SubscriptionReport,
): Promise<ReportedSubscription> {
  const state = event.subscription;
  return takenFrom(origin.features, {
    ...state,
    planId: await planOf(repos, origin, subscription, state.planRef),
    observedAt: state.observedAt ?? event.occurredAt,
    report: { followsLastReport: origin.inSequence === true },
  });
}

/** The report ordered by its time even on a tie: its provider could not be asked, or agreed with it. */
export function byTime(reported: ReportedSubscription): ReportedSubscription {
  return { ...reported, report: { ...reported.report, orderedByTime: true } };
}
