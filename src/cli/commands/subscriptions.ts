import {
  CancelSubscriptionResponse,
  ChangePlanResponse,
  GetSubscriptionResponse,
  ListSubscriptionsResponse,
  PauseSubscriptionResponse,
  ResumeSubscriptionResponse,
  RevokeCancellationResponse,
  type Subscription,
  SubscriptionStatus,
  subscriptionStatusFromJSON,
  subscriptionStatusToJSON,
} from '../../gen/billing/v1/subscription';
import { UsageError } from '../args';
import type { CommandGroup } from '../command';
import { enumName, type Output, printFields, printJson, printTable, time } from '../output';
import { fetchPages, printNextPage, readPaging } from '../paging';

export const subscriptions: CommandGroup = {
  async get({ client, flags, out }) {
    const subscriptionId = flags.operand(2, 'subscription id');
    flags.done(3);
    const response = await client.api.subscriptions.getSubscription({ subscriptionId });
    if (out.json) return printJson(out, GetSubscriptionResponse.toJSON(response));
    printSubscription(out, response.subscription!);
  },

  async list({ client, flags, out }) {
    const storefrontId = flags.optional('storefront');
    const customerId = flags.optional('customer');
    const statuses = flags.list('status').map(statusFlag);
    const paging = readPaging(flags);
    flags.done(2);
    const page = await fetchPages(paging, out, async (pageSize, pageToken) => {
      const request = { storefrontId, customerId, statuses, pageSize, pageToken };
      const r = await client.api.subscriptions.listSubscriptions(request);
      return { items: r.subscriptions, nextPageToken: r.nextPageToken };
    });
    if (out.json) {
      const response = { subscriptions: page.items, nextPageToken: page.nextPageToken };
      return printJson(out, ListSubscriptionsResponse.toJSON(response));
    }
    printTable(
      out,
      ['ID', 'STATUS', 'STOREFRONT', 'CUSTOMER', 'PLAN', 'PROVIDER', 'PERIOD END'],
      page.items.map((s) => [
        s.id,
        subscriptionStatusName(s) + (s.cancelAtPeriodEnd ? ' (cancels at period end)' : ''),
        s.storefrontId,
        s.customerId,
        s.planId,
        s.provider,
        time(s.currentPeriodEnd) ?? '',
      ]),
    );
    printNextPage(out, page.nextPageToken);
  },

  async cancel({ client, flags, out }) {
    const subscriptionId = flags.operand(2, 'subscription id');
    const atPeriodEnd = flags.switch('at-period-end');
    const reason = flags.optional('reason');
    flags.done(3);
    const request = { subscriptionId, atPeriodEnd, reason };
    const response = await client.api.subscriptions.cancelSubscription(request);
    if (out.json) return printJson(out, CancelSubscriptionResponse.toJSON(response));
    printSubscription(out, response.subscription!);
  },

  /** Undoes a cancel at the period end while the period runs. */
  async revoke({ client, flags, out }) {
    const subscriptionId = flags.operand(2, 'subscription id');
    flags.done(3);
    const response = await client.api.subscriptions.revokeCancellation({ subscriptionId });
    if (out.json) return printJson(out, RevokeCancellationResponse.toJSON(response));
    printSubscription(out, response.subscription!);
  },

  async 'change-plan'({ client, flags, out }) {
    const subscriptionId = flags.operand(2, 'subscription id');
    const planId = flags.required('plan');
    flags.done(3);
    const response = await client.api.subscriptions.changePlan({ subscriptionId, planId });
    if (out.json) return printJson(out, ChangePlanResponse.toJSON(response));
    printSubscription(out, response.subscription!);
  },

  async pause({ client, flags, out }) {
    const subscriptionId = flags.operand(2, 'subscription id');
    const resumeAt = flags.optional('resume-at');
    flags.done(3);
    const resumeTime = resumeAt === undefined ? undefined : new Date(resumeAt);
    if (resumeTime && Number.isNaN(resumeTime.getTime())) {
      throw new UsageError(`--resume-at must be a time such as 2026-01-31T00:00:00Z (got '${resumeAt}')`);
    }
    const response = await client.api.subscriptions.pauseSubscription({ subscriptionId, resumeTime });
    if (out.json) return printJson(out, PauseSubscriptionResponse.toJSON(response));
    printSubscription(out, response.subscription!);
  },

  async resume({ client, flags, out }) {
    const subscriptionId = flags.operand(2, 'subscription id');
    flags.done(3);
    const response = await client.api.subscriptions.resumeSubscription({ subscriptionId });
    if (out.json) return printJson(out, ResumeSubscriptionResponse.toJSON(response));
    printSubscription(out, response.subscription!);
  },
};

export function printSubscription(out: Output, s: Subscription): void {
  printFields(out, {
    id: s.id,
    status: subscriptionStatusName(s),
    storefront: s.storefrontId,
    customer: s.customerId,
    plan: s.planId,
    provider: s.provider,
    'period end': time(s.currentPeriodEnd),
    'cancels at period end': s.cancelAtPeriodEnd ? 'yes' : undefined,
    'canceled at': time(s.canceledAt),
    'ended at': time(s.endedAt),
  });
}

export function subscriptionStatusName(s: Subscription): string {
  return enumName(subscriptionStatusToJSON(s.status), 'SUBSCRIPTION_STATUS_');
}

/** `--status ACTIVE` (or the full enum name) as the enum; a name the API does not have is a usage mistake. */
function statusFlag(text: string): SubscriptionStatus {
  const name = text.toUpperCase();
  const status = subscriptionStatusFromJSON(
    name.startsWith('SUBSCRIPTION_STATUS_') ? name : `SUBSCRIPTION_STATUS_${name}`,
  );
  if (status === SubscriptionStatus.UNRECOGNIZED || status === SubscriptionStatus.SUBSCRIPTION_STATUS_UNSPECIFIED) {
    const known = Object.values(SubscriptionStatus)
      .filter((v): v is number => typeof v === 'number' && v > 0)
      .map((v) => enumName(subscriptionStatusToJSON(v), 'SUBSCRIPTION_STATUS_'));
    throw new UsageError(`--status must be one of ${known.join(', ')} (got '${text}')`);
  }
  return status;
}
