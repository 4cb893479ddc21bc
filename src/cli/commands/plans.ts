import { intervalUnitToJSON } from '../../gen/billing/v1/common';
import {
  ArchivePlanResponse,
  GetPlanResponse,
  ListPlansResponse,
  type Plan,
  planStatusToJSON,
} from '../../gen/billing/v1/catalog';
import type { CommandGroup } from '../command';
import { enumName, money, type Output, printFields, printJson, printTable, time } from '../output';
import { fetchPages, printNextPage, readPaging } from '../paging';

export const plans: CommandGroup = {
  async list({ client, flags, out }) {
    const storefrontId = flags.required('storefront');
    const includeArchived = flags.switch('archived');
    const paging = readPaging(flags);
    flags.done(2);
    const page = await fetchPages(paging, out, async (pageSize, pageToken) => {
      const r = await client.api.catalog.listPlans({ storefrontId, includeArchived, pageSize, pageToken });
      return { items: r.plans, nextPageToken: r.nextPageToken };
    });
    if (out.json)
      return printJson(out, ListPlansResponse.toJSON({ plans: page.items, nextPageToken: page.nextPageToken }));
    printTable(
      out,
      ['ID', 'NAME', 'PRICE', 'EVERY', 'STATUS', 'FEATURES'],
      page.items.map((p) => [
        p.id,
        p.name,
        money(p.price) ?? '',
        every(p) ?? '',
        enumName(planStatusToJSON(p.status), 'PLAN_STATUS_'),
        p.featureKeys.join(','),
      ]),
    );
    printNextPage(out, page.nextPageToken);
  },

  async get({ client, flags, out }) {
    const planId = flags.operand(2, 'plan id');
    flags.done(3);
    const response = await client.api.catalog.getPlan({ planId });
    if (out.json) return printJson(out, GetPlanResponse.toJSON(response));
    printPlan(out, response.plan!);
  },

  /** New checkouts can no longer choose the plan; its running subscriptions carry on. */
  async archive({ client, flags, out }) {
    const planId = flags.operand(2, 'plan id');
    flags.done(3);
    const response = await client.api.catalog.archivePlan({ planId });
    if (out.json) return printJson(out, ArchivePlanResponse.toJSON(response));
    printPlan(out, response.plan!);
  },
};

function printPlan(out: Output, p: Plan): void {
  printFields(out, {
    id: p.id,
    name: p.name,
    storefront: p.storefrontId,
    price: money(p.price),
    every: every(p),
    'trial days': p.trialDays > 0 ? String(p.trialDays) : undefined,
    features: p.featureKeys.join(', '),
    status: enumName(planStatusToJSON(p.status), 'PLAN_STATUS_'),
    ...Object.fromEntries(Object.entries(p.providerRefs).map(([provider, ref]) => [`${provider} ref`, ref])),
    created: time(p.createTime),
    archived: time(p.archiveTime),
  });
}

function every(p: Plan): string | undefined {
  return p.interval && `${p.interval.count} ${enumName(intervalUnitToJSON(p.interval.unit), 'INTERVAL_UNIT_')}`;
}
