import type { EventType } from '../../src/domain/event-catalogue';
import { Subscription, SUBSCRIPTION_STATUSES, SubscriptionStatus } from '../../src/domain/subscription';
import { askProvider, ObservedSubscription, reportAgrees, transition } from '../../src/domain/subscription-lifecycle';

const NOW = new Date('2030-01-10T12:00:00Z');
const PERIOD_START = new Date('2030-01-01T00:00:00Z');
const PERIOD_END = new Date('2030-02-01T00:00:00Z');
const NEXT_PERIOD_END = new Date('2030-03-01T00:00:00Z');
const LAST_OBSERVED = new Date('2030-01-05T00:00:00Z');

function subscription(status: SubscriptionStatus, overrides: Partial<Subscription> = {}): Subscription {
  return {
    id: 'sub_1',
    storefrontId: 'store',
    customerId: 'cus_1',
    planId: 'plan_basic',
    quantity: 2,
    provider: 'fakepay',
    providerRef: 'fsub_1',
    status,
    currentPeriodStart: PERIOD_START,
    currentPeriodEnd: PERIOD_END,
    cancelAtPeriodEnd: false,
    providerObservedAt: LAST_OBSERVED,
    version: 3,
    createdAt: PERIOD_START,
    updatedAt: PERIOD_START,
    ...overrides,
  };
}

/**
 * The contract, written out rather than imported: every move a provider's report may make. A report of the same
 * status is always allowed (it may carry other news). Terminal states are left by nothing.
 */
const ALLOWED: Record<SubscriptionStatus, SubscriptionStatus[]> = {
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

/** The event a status move emits (consumers key their logic on these). */
function statusEvent(from: SubscriptionStatus, to: SubscriptionStatus): EventType {
  const byTarget: Record<SubscriptionStatus, EventType | undefined> = {
    INCOMPLETE: undefined,
    TRIALING: 'billing.subscription.activated',
    ACTIVE: 'billing.subscription.activated',
    PAST_DUE: 'billing.subscription.past_due',
    UNPAID: 'billing.subscription.unpaid',
    PAUSED: 'billing.subscription.paused',
    CANCELED: 'billing.subscription.canceled',
    COMPLETED: 'billing.subscription.completed',
    INCOMPLETE_EXPIRED: 'billing.subscription.expired',
  };
  if (from === 'PAUSED' && (to === 'ACTIVE' || to === 'TRIALING')) return 'billing.subscription.resumed';
  return byTarget[to]!;
}

const PAIRS = SUBSCRIPTION_STATUSES.flatMap((from) => SUBSCRIPTION_STATUSES.map((to) => [from, to] as const));
const MOVES = PAIRS.filter(([from, to]) => from !== to && ALLOWED[from].includes(to));
const REFUSED = PAIRS.filter(([from, to]) => from !== to && !ALLOWED[from].includes(to));

describe('subscription state machine: every status pair', () => {
  it('covers all 81 pairs between the three tables', () => {
    expect(MOVES.length + REFUSED.length + SUBSCRIPTION_STATUSES.length).toBe(81);
  });

  it.each(MOVES)('%s → %s is applied with its status event', (from, to) => {
    const result = transition(subscription(from), { status: to, observedAt: NOW }, NOW);
    expect(result.outcome).toBe('applied');
    if (result.outcome !== 'applied') return;
    expect(result.next.status).toBe(to);
    expect(result.events).toEqual([statusEvent(from, to)]);
    expect(result.next.version).toBe(4);
    expect(result.next.updatedAt).toEqual(NOW);
    expect(result.next.providerObservedAt).toEqual(NOW);
  });

  it.each(REFUSED)('%s → %s is refused and names the move', (from, to) => {
    const result = transition(subscription(from), { status: to, observedAt: NOW }, NOW);
    expect(result).toEqual({ outcome: 'refused', reason: `${from} → ${to} is not allowed` });
  });

  it.each(SUBSCRIPTION_STATUSES)('%s reported again with nothing new is unchanged', (status) => {
    const ended = status === 'CANCELED' || status === 'COMPLETED' || status === 'INCOMPLETE_EXPIRED';
    const current = subscription(status, ended ? { canceledAt: PERIOD_START, endedAt: PERIOD_START } : {});
    expect(transition(current, { status, observedAt: NOW }, NOW)).toEqual({ outcome: 'unchanged' });
  });
});

describe('subscription state machine: stale observations', () => {
  it('a report older than the last one applied is stale: not applied, whatever it says', () => {
    const earlier = new Date(LAST_OBSERVED.getTime() - 1);
    expect(transition(subscription('ACTIVE'), { status: 'CANCELED', observedAt: earlier }, NOW)).toEqual({
      outcome: 'stale',
    });
    // Stale wins over refused: an old report of an impossible move is just old.
    expect(transition(subscription('CANCELED'), { status: 'ACTIVE', observedAt: earlier }, NOW)).toEqual({
      outcome: 'stale',
    });
  });

  it('applies a fetched state from the same instant as the last one (ties are not stale)', () => {
    const result = transition(subscription('ACTIVE'), { status: 'PAST_DUE', observedAt: LAST_OBSERVED }, NOW);
    expect(result.outcome).toBe('applied');
  });

  it('a webhook from the same instant that would change the subscription is in doubt: it may be the older one', () => {
    const current = subscription('ACTIVE', { cancelAtPeriodEnd: true });
    const late = {
      status: 'ACTIVE',
      cancelAtPeriodEnd: false,
      observedAt: LAST_OBSERVED,
      report: {},
    } as const;
    const result = transition(current, late, NOW);
    expect(result.outcome).toBe('in_doubt');
    expect(askProvider(result)).toBe(true);
    // One saying what we hold changes nothing, and one stamped later is ordered by its time.
    expect(transition(current, { ...late, cancelAtPeriodEnd: true }, NOW)).toEqual({ outcome: 'unchanged' });
    const later = transition(current, { ...late, observedAt: new Date(LAST_OBSERVED.getTime() + 1000) }, NOW);
    expect(later.outcome).toBe('applied');
    expect(askProvider(later)).toBe(false);
  });

  it('a webhook dated to a window (a whole second) that holds the state held is in doubt, unless it follows a report', () => {
    const current = subscription('ACTIVE', { cancelAtPeriodEnd: true });
    const second = {
      status: 'ACTIVE',
      cancelAtPeriodEnd: false,
      observedSince: new Date(LAST_OBSERVED.getTime() - 400),
      observedAt: new Date(LAST_OBSERVED.getTime() + 599),
      report: {},
    } as const;
    expect(transition(current, second, NOW).outcome).toBe('in_doubt');
    // A window that begins after the state held is newer.
    const after = { ...second, observedSince: new Date(LAST_OBSERVED.getTime() + 1) };
    expect(transition(current, after, NOW).outcome).toBe('applied');
    // Next in its key's sequence, it follows a state an earlier report brought; not one from our own call's answer.
    const following = { ...second, report: { followsLastReport: true } };
    expect(transition({ ...current, providerObservedInReport: true }, following, NOW).outcome).toBe('applied');
    expect(transition({ ...current, providerObservedInReport: false }, following, NOW).outcome).toBe('in_doubt');
  });

  it('a report agrees with the provider when it would leave the same status, plan, quantity and cancel flag', () => {
    const current = subscription('ACTIVE', { cancelAtPeriodEnd: true });
    const paused = { status: 'PAUSED', report: {} } as const;
    expect(reportAgrees(current, paused, { status: 'PAUSED', currentPeriodEnd: NOW })).toBe(true);
    expect(reportAgrees(current, paused, { status: 'ACTIVE' })).toBe(false);
    // What a report leaves unsaid stays as held, on both sides.
    expect(reportAgrees(current, { status: 'ACTIVE' }, { status: 'ACTIVE', cancelAtPeriodEnd: true })).toBe(true);
    expect(reportAgrees(current, { status: 'ACTIVE', cancelAtPeriodEnd: false }, { status: 'ACTIVE' })).toBe(false);
    expect(reportAgrees(current, { status: 'ACTIVE', planId: 'plan_pro' }, { status: 'ACTIVE' })).toBe(false);
    // One that would take the period we hold back is an older one, whatever it says.
    const earlier = new Date(current.currentPeriodEnd!.getTime() - 86_400_000);
    expect(reportAgrees(current, { ...paused, currentPeriodEnd: earlier }, { status: 'PAUSED' })).toBe(false);
  });

  it('remembers whether the state held came from a webhook', () => {
    const report = transition(subscription('ACTIVE'), { status: 'PAUSED', observedAt: NOW, report: {} }, NOW);
    expect(report.outcome === 'applied' && report.next.providerObservedInReport).toBe(true);
    const current = { ...subscription('ACTIVE'), providerObservedInReport: true };
    const fetched = transition(current, { status: 'PAUSED', observedAt: NOW }, NOW);
    expect(fetched.outcome === 'applied' && fetched.next.providerObservedInReport).toBe(false);
    // A report without a time leaves the held stamp, and where it came from, as they were.
    const untimed = transition(current, { status: 'PAUSED' }, NOW);
    expect(untimed.outcome === 'applied' && untimed.next.providerObservedInReport).toBe(true);
  });

  it('applies a report without a time and keeps the last observation time', () => {
    const result = transition(subscription('ACTIVE'), { status: 'PAST_DUE' }, NOW);
    expect(result.outcome).toBe('applied');
    if (result.outcome === 'applied') expect(result.next.providerObservedAt).toEqual(LAST_OBSERVED);
  });

  it('refuses a report from earlier in the same second (a late webhook after our own answer is stale)', () => {
    const current = subscription('ACTIVE', { providerObservedAt: new Date('2030-01-05T00:00:00.584Z') });
    const result = transition(current, { status: 'PAUSED', observedAt: new Date('2030-01-05T00:00:00Z') }, NOW);
    expect(result.outcome).toBe('stale');
  });

  it('remembers a report from a provider clock ahead of ours as observed now: our own reads after it are not stale', () => {
    const ahead = new Date(NOW.getTime() + 60 * 86_400_000);
    const result = transition(subscription('ACTIVE'), { status: 'PAUSED', observedAt: ahead }, NOW);
    expect(result.outcome).toBe('applied');
    if (result.outcome !== 'applied') return;
    expect(result.next.providerObservedAt).toEqual(NOW);
    expect(transition(result.next, { status: 'CANCELED', observedAt: NOW }, NOW).outcome).toBe('applied');
  });

  it('applies the first report of a subscription we never heard about', () => {
    const current = subscription('INCOMPLETE', { providerObservedAt: undefined });
    const result = transition(current, { status: 'ACTIVE', observedAt: new Date(0) }, NOW);
    expect(result.outcome).toBe('applied');
  });
});

describe('subscription state machine: what a report does not say stays ours', () => {
  const current = subscription('ACTIVE', {
    trialEnd: PERIOD_START,
    cancelAtPeriodEnd: true,
    canceledAt: new Date('2030-01-04T00:00:00Z'),
  });

  it('keeps plan, quantity, periods, trial end, cancel_at_period_end and canceled_at when absent', () => {
    const result = transition(current, { status: 'PAST_DUE', observedAt: NOW }, NOW);
    expect(result.outcome).toBe('applied');
    if (result.outcome !== 'applied') return;
    const { planId, quantity, currentPeriodStart, currentPeriodEnd, trialEnd, cancelAtPeriodEnd, canceledAt } =
      result.next;
    expect({ planId, quantity, currentPeriodStart, currentPeriodEnd, trialEnd, cancelAtPeriodEnd, canceledAt }).toEqual(
      {
        planId: current.planId,
        quantity: current.quantity,
        currentPeriodStart: current.currentPeriodStart,
        currentPeriodEnd: current.currentPeriodEnd,
        trialEnd: current.trialEnd,
        // An emulated cancel at period end is ours: a provider that knows nothing of it does not revoke it.
        cancelAtPeriodEnd: true,
        canceledAt: current.canceledAt,
      },
    );
    expect(result.events).toEqual(['billing.subscription.past_due']);
  });

  it('takes each field the report does say', () => {
    const observed: ObservedSubscription = {
      status: 'ACTIVE',
      planId: 'plan_pro',
      quantity: 5,
      currentPeriodStart: PERIOD_END,
      currentPeriodEnd: NEXT_PERIOD_END,
      cancelAtPeriodEnd: false,
      observedAt: NOW,
    };
    const result = transition(current, observed, NOW);
    expect(result.outcome).toBe('applied');
    if (result.outcome !== 'applied') return;
    expect(result.next).toMatchObject({
      planId: 'plan_pro',
      quantity: 5,
      currentPeriodStart: PERIOD_END,
      currentPeriodEnd: NEXT_PERIOD_END,
      cancelAtPeriodEnd: false,
    });
  });

  it('an ended subscription keeps the cancel_at_period_end it had, and gets an end time and a cancel time', () => {
    const result = transition(current, { status: 'CANCELED', cancelAtPeriodEnd: false }, NOW);
    expect(result.outcome).toBe('applied');
    if (result.outcome !== 'applied') return;
    expect(result.next.cancelAtPeriodEnd).toBe(true);
    expect(result.next.endedAt).toEqual(NOW);
    expect(result.next.canceledAt).toEqual(current.canceledAt);
    expect(result.events).toEqual(['billing.subscription.canceled']);
  });

  it('a later report of the same end keeps the cancel and end times already announced: unchanged, no event', () => {
    const at = new Date('2030-01-05T00:00:00Z');
    const ended = subscription('CANCELED', { canceledAt: at, endedAt: at });
    const later = new Date(at.getTime() + 700);
    expect(transition(ended, { status: 'CANCELED', canceledAt: later, endedAt: later }, NOW)).toEqual({
      outcome: 'unchanged',
    });
  });

  it('an end time comes from the report, else its observation time, else now; canceled_at defaults to it', () => {
    const ended = new Date('2030-01-09T00:00:00Z');
    const at = (observed: ObservedSubscription) => {
      const result = transition(subscription('ACTIVE'), observed, NOW);
      return result.outcome === 'applied' ? [result.next.endedAt, result.next.canceledAt] : [];
    };
    expect(at({ status: 'CANCELED', endedAt: ended, observedAt: NOW })).toEqual([ended, ended]);
    expect(at({ status: 'CANCELED', observedAt: NOW })).toEqual([NOW, NOW]);
    expect(at({ status: 'COMPLETED' })).toEqual([NOW, undefined]);
  });
});

describe('subscription state machine: the events one report emits, in order', () => {
  type Case = [string, Subscription, ObservedSubscription, EventType[] | 'unchanged'];
  const cases: Case[] = [
    [
      'a plan change',
      subscription('ACTIVE'),
      { status: 'ACTIVE', planId: 'plan_pro' },
      ['billing.subscription.plan_changed'],
    ],
    [
      'a cancellation scheduled',
      subscription('ACTIVE'),
      { status: 'ACTIVE', cancelAtPeriodEnd: true },
      ['billing.subscription.cancellation_scheduled'],
    ],
    [
      'a cancellation revoked',
      subscription('ACTIVE', { cancelAtPeriodEnd: true }),
      { status: 'ACTIVE', cancelAtPeriodEnd: false },
      ['billing.subscription.cancellation_revoked'],
    ],
    [
      'a renewal (a later period while in good standing)',
      subscription('ACTIVE'),
      { status: 'ACTIVE', currentPeriodStart: PERIOD_END, currentPeriodEnd: NEXT_PERIOD_END },
      ['billing.subscription.renewed'],
    ],
    [
      'a renewal of a trial',
      subscription('TRIALING'),
      { status: 'TRIALING', currentPeriodEnd: NEXT_PERIOD_END },
      ['billing.subscription.renewed'],
    ],
    [
      'a recovery that pays the new period: activated, then renewed',
      subscription('PAST_DUE'),
      { status: 'ACTIVE', currentPeriodEnd: NEXT_PERIOD_END },
      ['billing.subscription.activated', 'billing.subscription.renewed'],
    ],
    [
      'a past-due period is not a renewal',
      subscription('ACTIVE'),
      { status: 'PAST_DUE', currentPeriodEnd: NEXT_PERIOD_END },
      ['billing.subscription.past_due'],
    ],
    [
      'a first activation is not a renewal even with a period',
      subscription('INCOMPLETE', { currentPeriodStart: undefined, currentPeriodEnd: PERIOD_START }),
      { status: 'ACTIVE', currentPeriodStart: PERIOD_START, currentPeriodEnd: PERIOD_END },
      ['billing.subscription.activated'],
    ],
    [
      'an upgrade with a new period and a scheduled cancel',
      subscription('ACTIVE'),
      { status: 'ACTIVE', planId: 'plan_pro', cancelAtPeriodEnd: true, currentPeriodEnd: NEXT_PERIOD_END },
      [
        'billing.subscription.plan_changed',
        'billing.subscription.cancellation_scheduled',
        'billing.subscription.renewed',
      ],
    ],
    [
      'a cancel at period end that ends: canceled only (no revoke is announced)',
      subscription('ACTIVE', { cancelAtPeriodEnd: true }),
      { status: 'CANCELED', cancelAtPeriodEnd: false },
      ['billing.subscription.canceled'],
    ],
    [
      'a quantity change: updated',
      subscription('ACTIVE'),
      { status: 'ACTIVE', quantity: 3 },
      ['billing.subscription.updated'],
    ],
    [
      'a later trial end: updated',
      subscription('TRIALING'),
      { status: 'TRIALING', trialEnd: PERIOD_END },
      ['billing.subscription.updated'],
    ],
    [
      'an earlier period end is not a renewal',
      subscription('ACTIVE'),
      { status: 'ACTIVE', currentPeriodEnd: PERIOD_START },
      ['billing.subscription.updated'],
    ],
    [
      'the same state again',
      subscription('ACTIVE'),
      { status: 'ACTIVE', planId: 'plan_basic', quantity: 2 },
      'unchanged',
    ],
  ];

  it.each(cases)('%s', (_name, current, observed, expected) => {
    const result = transition(current, observed, NOW);
    if (expected === 'unchanged') {
      expect(result).toEqual({ outcome: 'unchanged' });
      return;
    }
    expect(result.outcome).toBe('applied');
    if (result.outcome === 'applied') expect(result.events).toEqual(expected);
  });
});
