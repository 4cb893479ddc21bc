import type { EventType } from './event-catalogue';
import { isTerminal, Subscription, SubscriptionStatus } from './subscription';
import { notAfter } from './provider-clock';

/**
 * A subscription's state as a provider reports it (a webhook snapshot, or a fresh fetch). Only the status is
 * always said; whatever else is absent stays as it is — plan, quantity, and a `cancel_at_period_end` the provider
 * knows nothing of because we emulate it.
 */
export type ObservedSubscription = Pick<Subscription, 'status'> &
  Partial<
    Pick<
      Subscription,
      | 'currentPeriodStart'
      | 'currentPeriodEnd'
      | 'trialEnd'
      | 'cancelAtPeriodEnd'
      | 'canceledAt'
      | 'endedAt'
      | 'planId'
      | 'quantity'
    >
  > & {
    /** When this was true at the provider (the latest it may have been). Older than what we applied last = stale. */
    observedAt?: Date;
    /**
     * The earliest it may have become true, where the provider dates to a coarser unit than our milliseconds (a state
     * dated to a whole second was true somewhere within it). Absent: exactly `observedAt`.
     */
    observedSince?: Date;
    /**
     * Set on a webhook's snapshot, which may arrive after a later state of the same time (a provider that stamps
     * whole seconds makes that common): such a report that would change what we hold, and cannot be ordered against
     * it by time, is `in_doubt`. A fetched state, or the provider's answer to our own call, is its latest and applies
     * on a tie.
     */
    report?: {
      /**
       * The next of its ordering key's sequence: it follows every earlier report of that key, so a tie with a state
       * a report brought is no doubt. It is not ordered against the answers to our own calls.
       */
      followsLastReport?: boolean;
      /** The provider could not be asked: ordered by its time, as ties were before (and as a fetched state is). */
      orderedByTime?: boolean;
    };
  };

/**
 * The moves the state machine allows. Anything else is a regression (a late `past_due` after `canceled`) or a
 * report out of order; the engine records it and, where order is in doubt, asks the provider for its current state.
 */
const ALLOWED: Record<SubscriptionStatus, readonly SubscriptionStatus[]> = {
  INCOMPLETE: ['TRIALING', 'ACTIVE', 'PAST_DUE', 'INCOMPLETE_EXPIRED', 'CANCELED'],
  TRIALING: ['ACTIVE', 'PAST_DUE', 'UNPAID', 'PAUSED', 'CANCELED', 'COMPLETED'],
  ACTIVE: ['PAST_DUE', 'UNPAID', 'PAUSED', 'CANCELED', 'COMPLETED'],
  PAST_DUE: ['ACTIVE', 'UNPAID', 'PAUSED', 'CANCELED', 'COMPLETED'],
  UNPAID: ['ACTIVE', 'CANCELED', 'COMPLETED'],
  PAUSED: ['ACTIVE', 'TRIALING', 'CANCELED', 'COMPLETED'],
  INCOMPLETE_EXPIRED: [],
  CANCELED: [],
  COMPLETED: [],
};

function canMove(from: SubscriptionStatus, to: SubscriptionStatus): boolean {
  return from === to || ALLOWED[from].includes(to);
}

export type Transition =
  | { outcome: 'applied'; next: Subscription; events: EventType[] }
  | { outcome: 'unchanged' }
  /** Older than the state we hold; recorded, not applied. */
  | { outcome: 'stale' }
  /** Not a move the state machine allows from the current state. */
  | { outcome: 'refused'; reason: string }
  /**
   * A report that would change the state we hold, whose time cannot be ordered against it (the same instant): which
   * of the two is newer cannot be told, so the provider's current state decides.
   */
  | { outcome: 'in_doubt'; reason: string };

/** Whether the provider's current state must decide instead of the report (refused, or its order unknown). */
export function askProvider(result: Transition): result is Extract<Transition, { outcome: 'refused' | 'in_doubt' }> {
  return result.outcome === 'refused' || result.outcome === 'in_doubt';
}

/** Decides what an observed provider state does to a subscription, and which events that emits. */
export function transition(current: Subscription, observed: ObservedSubscription, now: Date): Transition {
  if (observed.observedAt && current.providerObservedAt && observed.observedAt < current.providerObservedAt) {
    return { outcome: 'stale' };
  }
  if (!canMove(current.status, observed.status)) {
    return { outcome: 'refused', reason: `${current.status} → ${observed.status} is not allowed` };
  }
  const ended = isTerminal(observed.status);
  const next: Subscription = {
    ...current,
    ...lifecycleLeftBy(current, observed),
    currentPeriodStart: observed.currentPeriodStart ?? current.currentPeriodStart,
    currentPeriodEnd: observed.currentPeriodEnd ?? current.currentPeriodEnd,
    trialEnd: observed.trialEnd ?? current.trialEnd,
    // Once ended, the times the canceled event announced stay: a later report of the same end (the provider's own
    // record of a cancel we made, stamped a moment later) is not a change to tell anyone about.
    canceledAt: isTerminal(current.status)
      ? (current.canceledAt ?? observed.canceledAt)
      : (observed.canceledAt ?? current.canceledAt),
    endedAt: ended ? (current.endedAt ?? observed.endedAt ?? observed.observedAt ?? now) : current.endedAt,
  };
  if (observed.status === 'CANCELED' && !next.canceledAt) next.canceledAt = next.endedAt;
  const events = eventsFor(current, next);
  if (events.length === 0 && !differs(current, next)) return { outcome: 'unchanged' };
  const doubt = observed.report && !observed.report.orderedByTime && whyOrderUnknown(current, observed);
  if (doubt) return { outcome: 'in_doubt', reason: doubt };
  // Remembered no later than our now: a provider whose clock runs ahead of ours would otherwise make every state we
  // stamp ourselves (a read, the answer to our own change) look older than its webhooks, and so stale.
  next.providerObservedAt = latest(
    current.providerObservedAt,
    observed.observedAt && notAfter(observed.observedAt, now),
  );
  if (observed.observedAt) next.providerObservedInReport = observed.report !== undefined;
  next.version = current.version + 1;
  next.updatedAt = now;
  return { outcome: 'applied', next, events: events.length ? events : ['billing.subscription.updated'] };
}

/**
 * Whether a report in doubt says what the provider's current state says, as each would leave `current`: its status,
 * plan, quantity and cancel at period end (not its period: a renewal since does not make it a stale one), and it
 * does not take the period we hold back. Then it is no older state that a change of ours superseded, and it is
 * applied as reported, keeping its events and its place in the provider's sequence, rather than folded into the
 * fetched state.
 */
export function reportAgrees(
  current: Subscription,
  report: ObservedSubscription,
  latest: ObservedSubscription,
): boolean {
  const [a, b] = [lifecycleLeftBy(current, report), lifecycleLeftBy(current, latest)];
  const periodBack =
    report.currentPeriodEnd !== undefined &&
    current.currentPeriodEnd !== undefined &&
    report.currentPeriodEnd < current.currentPeriodEnd;
  return (
    !periodBack &&
    a.status === b.status &&
    a.planId === b.planId &&
    a.quantity === b.quantity &&
    a.cancelAtPeriodEnd === b.cancelAtPeriodEnd
  );
}

/**
 * The status, plan, quantity and cancel flag a report leaves: what it does not say stays as it is, and an ended
 * subscription keeps its flag.
 */
function lifecycleLeftBy(current: Subscription, observed: ObservedSubscription) {
  return {
    status: observed.status,
    planId: observed.planId ?? current.planId,
    quantity: observed.quantity ?? current.quantity,
    cancelAtPeriodEnd: isTerminal(observed.status)
      ? current.cancelAtPeriodEnd
      : (observed.cancelAtPeriodEnd ?? current.cancelAtPeriodEnd),
  };
}

function eventsFor(before: Subscription, after: Subscription): EventType[] {
  const events: EventType[] = [];
  const status = statusEvent(before.status, after.status);
  if (status) events.push(status);
  if (before.planId !== after.planId) events.push('billing.subscription.plan_changed');
  if (!isTerminal(after.status) && before.cancelAtPeriodEnd !== after.cancelAtPeriodEnd) {
    events.push(
      after.cancelAtPeriodEnd
        ? 'billing.subscription.cancellation_scheduled'
        : 'billing.subscription.cancellation_revoked',
    );
  }
  // A new period while the subscription is in good standing is a renewal (a past-due period is not paid yet).
  const advanced =
    before.currentPeriodEnd && after.currentPeriodEnd && after.currentPeriodEnd > before.currentPeriodEnd;
  if (advanced && (after.status === 'ACTIVE' || after.status === 'TRIALING') && before.status !== 'INCOMPLETE') {
    events.push('billing.subscription.renewed');
  }
  return events;
}

function statusEvent(from: SubscriptionStatus, to: SubscriptionStatus): EventType | undefined {
  if (from === to) return undefined;
  switch (to) {
    case 'TRIALING':
    case 'ACTIVE':
      return from === 'PAUSED' ? 'billing.subscription.resumed' : 'billing.subscription.activated';
    case 'PAST_DUE':
      return 'billing.subscription.past_due';
    case 'UNPAID':
      return 'billing.subscription.unpaid';
    case 'PAUSED':
      return 'billing.subscription.paused';
    case 'CANCELED':
      return 'billing.subscription.canceled';
    case 'COMPLETED':
      return 'billing.subscription.completed';
    case 'INCOMPLETE_EXPIRED':
      return 'billing.subscription.expired';
    case 'INCOMPLETE':
      return undefined;
  }
}

function differs(a: Subscription, b: Subscription): boolean {
  const time = (d?: Date) => d?.getTime();
  return (
    a.status !== b.status ||
    a.planId !== b.planId ||
    a.quantity !== b.quantity ||
    time(a.currentPeriodStart) !== time(b.currentPeriodStart) ||
    time(a.currentPeriodEnd) !== time(b.currentPeriodEnd) ||
    time(a.trialEnd) !== time(b.trialEnd) ||
    a.cancelAtPeriodEnd !== b.cancelAtPeriodEnd ||
    time(a.canceledAt) !== time(b.canceledAt) ||
    time(a.endedAt) !== time(b.endedAt)
  );
}

/**
 * Why a report not older than the state held cannot be ordered against it by time, if it cannot: the held stamp lies
 * within the report's time (one instant, or the whole second a coarse provider dates it to). A report next in its
 * key's sequence follows a state that an earlier report brought; our own calls' answers are outside that sequence.
 * Times of the provider's and of ours are compared as one clock: a provider clock ahead of ours by more than its
 * precision dates its reports past our answers, and they are ordered as newer (README, "Reports stamped in the same
 * instant").
 */
function whyOrderUnknown(current: Subscription, observed: ObservedSubscription): string | undefined {
  const held = current.providerObservedAt;
  if (!held || !observed.observedAt) return undefined;
  if (observed.report?.followsLastReport && current.providerObservedInReport) return undefined;
  const since = observed.observedSince ?? observed.observedAt;
  if (held >= since && held <= observed.observedAt) return 'stamped in the same instant as the state held';
  return undefined;
}

function latest(a?: Date, b?: Date): Date | undefined {
  if (!a) return b;
  if (!b) return a;
  return a > b ? a : b;
}
