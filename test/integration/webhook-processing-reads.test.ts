import { eventually } from '../support/eventually';
import { fakeProvider } from '../support/fake-provider';
import { fakeStorefrontService } from '../support/fake-storefront';
import { PaymentStatus } from '../../src/gen/billing/v1/payment';
import { FAST_WEBHOOKS, subotizWorldService } from '../support/subotiz-world';
import { webhooksSettled, withClient } from '../support/test-database';

/** A statement as knex reports it (`query` event): the transaction's id when it ran inside one. */
interface StatementSeen {
  sql: string;
  bindings?: unknown[];
  __knexTxId?: string;
}

/**
 * Webhook processing is bound by its round trips (README, performance): each statement of a webhook's transaction
 * is one more wait on PostgreSQL for its lane. These count the statements processing no longer sends.
 */
describe('webhook processing round trips', () => {
  const fake = fakeProvider('fakereads');
  const world = fakeStorefrontService(fake, 'fake-reads', FAST_WEBHOOKS);

  const processed = () =>
    withClient(world.db.url, async (c) => {
      const { rows } = await c.query("select count(*)::int as n from webhook_inbox where status = 'PROCESSED'");
      return rows[0].n as number;
    });

  /** Runs `send` with every statement the service sends passed to `seen`, until `count` more webhooks are processed. */
  async function watching(seen: (sql: string) => void, count: number, send: () => Promise<void>): Promise<void> {
    const before = await processed();
    const listener = (query: { sql: string }) => seen(query.sql);
    world.service.database.knex.on('query', listener);
    try {
      await send();
      await eventually(processed, (n) => n >= before + count);
    } finally {
      world.service.database.knex.removeListener('query', listener);
    }
  }

  // The storefront a webhook names is read at ingress through a cache that drops changed storefronts; processing
  // read it again from the database, once per webhook.
  it('processes webhooks without reading their storefront from the database', async () => {
    const subscription = await world.store.activeSubscription();
    let storefrontReads = 0;
    await watching(
      (sql) => (storefrontReads += /from "storefronts"/i.test(sql) ? 1 : 0),
      5,
      async () => {
        for (let i = 0; i < 5; i++) await fake.sendState(fake.subscription(subscription.providerRef));
      },
    );
    expect(storefrontReads).toBe(0);
  });

  // Each webhook was marked processed in a statement of its own after its events' statement, and every subscription
  // webhook read and locked its customer only to find the provider's customer id already remembered.
  it('marks a webhook processed in its events statement, and locks no customer whose id it already knows', async () => {
    const subscription = await world.store.activeSubscription();
    const { customerRef } = fake.subscription(subscription.providerRef);
    let marksAlone = 0;
    let marksWithEvents = 0;
    let customerLocks = 0;
    const seen = (sql: string) => {
      const marks = /UPDATE webhook_inbox SET status = 'PROCESSED'/.test(sql);
      const writesEvents = /INSERT INTO outbox/.test(sql);
      if (marks && writesEvents) marksWithEvents += 1;
      if (marks && !writesEvents) marksAlone += 1;
      if (/from "customers"[\s\S]*for update/i.test(sql)) customerLocks += 1;
    };
    const customerBefore = await customerRow(world.store.customerId);
    await watching(seen, 3, async () => {
      for (const quantity of [2, 3, 4]) {
        await fake.sendState(fake.update(subscription.providerRef, { quantity }));
        await world.store.waitFor(subscription.id, (s) => s.quantity === quantity);
      }
    });
    expect({ marksWithEvents, marksAlone, customerLocks }).toEqual({
      marksWithEvents: 3,
      marksAlone: 0,
      customerLocks: 0,
    });
    // Not rewritten either: the same row version, its provider id as it was.
    expect(await customerRow(world.store.customerId)).toEqual(customerBefore);
    expect(customerBefore.refs).toEqual({ [fake.id]: customerRef });

    // A customer id the provider changes is still remembered (the one statement writes only then), beside the ids
    // the customer has at other providers.
    await withClient(world.db.url, (c) =>
      c.query(`update customers set provider_refs = provider_refs || '{"elsewhere": "cus_kept"}' where id = $1`, [
        world.store.customerId,
      ]),
    );
    await watching(
      () => undefined,
      1,
      async () => {
        await fake.sendState(fake.update(subscription.providerRef, { customerRef: 'fcus_moved' }));
      },
    );
    expect((await customerRow(world.store.customerId)).refs).toEqual({
      [fake.id]: 'fcus_moved',
      elsewhere: 'cus_kept',
    });
  });

  /** The customer's provider ids and its row version (`xmin` changes whenever the row is written). */
  const customerRow = (customerId: string) =>
    withClient(world.db.url, async (c) => {
      const { rows } = await c.query('select provider_refs, xmin::text as version from customers where id = $1', [
        customerId,
      ]);
      return { refs: rows[0].provider_refs as Record<string, string>, version: rows[0].version as string };
    });
});

/**
 * A webhook asks its provider with nothing locked, then locks and applies: paid checkouts' webhooks read the same
 * payment reference (and asked whether another subscription held the same subscription reference) before asking
 * and again before locking, two identical statements in one transaction.
 */
describe('webhook processing reads a reference once per transaction', () => {
  const subotiz = subotizWorldService();

  /** Sells a subscription and pays it, every statement the service sends passed to `seen` until its webhooks settle. */
  async function paidWhileWatching(seen: (query: StatementSeen) => void): Promise<{ id: string }> {
    subotiz.service.database.knex.on('query', seen);
    try {
      const paid = await subotiz.world.activeSubscription();
      await webhooksSettled(subotiz.db.url);
      return paid;
    } finally {
      subotiz.service.database.knex.removeListener('query', seen);
    }
  }

  it('asks once per transaction which payment or subscription holds a provider reference', async () => {
    const reads = new Map<string, number>();
    const count = (query: StatementSeen) => {
      const byReference =
        /^select \* from "payments" where "provider" = \$1 and "provider_ref" = \$2/.test(query.sql) ||
        /^select "id" from "subscriptions" where "provider" = \$1 and "provider_ref" = \$2/.test(query.sql);
      if (!byReference || !query.__knexTxId) return;
      const key = `${query.__knexTxId} ${query.sql} ${JSON.stringify(query.bindings)}`;
      reads.set(key, (reads.get(key) ?? 0) + 1);
    };
    const paid = await paidWhileWatching(count);
    expect(reads.size).toBeGreaterThan(0);
    expect([...reads.entries()].filter(([, n]) => n > 1)).toEqual([]);
    const payments = await subotiz.world.paymentsOf(paid.id);
    expect(payments.map((p) => p.status)).toEqual([PaymentStatus.PAYMENT_STATUS_SUCCEEDED]);
  });

  // A new subscription's first webhook read it by our order id and locked it, asked whether any subscription held the
  // provider's reference, then wrote it: three statements, one now. An invoice's webhook locked its payment to file it
  // under the invoice, then wrote it: one statement now, which writes nothing when it is filed there already. A new
  // payment's webhook looked for it locked just before inserting it: the insert alone now finds one recorded meanwhile.
  // An invoice was looked up locked, then inserted: one statement does both now.
  it("claims a new subscription's reference, records its payment and invoice, and files one under the other, one statement each", async () => {
    const byTransaction = new Map<string, string[]>();
    const record = (query: StatementSeen) => {
      if (!query.__knexTxId) return;
      const list = byTransaction.get(query.__knexTxId) ?? [];
      list.push(query.sql);
      byTransaction.set(query.__knexTxId, list);
    };
    const paid = await paidWhileWatching(record);
    const transactions = [...byTransaction.values()];
    const claims = transactions.flat().filter((sql) => /^update "subscriptions" set "provider_ref" = \$1/.test(sql));
    const inUseChecks = transactions
      .flat()
      .filter((sql) => /^select "id" from "subscriptions" where "provider"/.test(sql));
    const filings = transactions.filter((sqls) => sqls.some((sql) => /insert into "?invoices"?/i.test(sql)));
    const invoiceLookUps = filings.flat().filter((sql) => /^select \* from "invoices"/.test(sql));
    const paymentLocks = (sqls: string[]) => sqls.filter((sql) => /from "payments"[\s\S]*for update/.test(sql));
    const paymentLocksWhileFiling = paymentLocks(filings.flat());
    const recordings = transactions.filter((sqls) => sqls.some((sql) => /^insert into "payments"/.test(sql)));
    expect({ claims: claims.length, inUseChecks: inUseChecks.length }).toEqual({ claims: 1, inUseChecks: 0 });
    expect(filings.length).toBeGreaterThan(0);
    expect(paymentLocksWhileFiling).toEqual([]);
    expect(invoiceLookUps).toEqual([]);
    expect(recordings).toHaveLength(1);
    expect(paymentLocks(recordings.flat())).toEqual([]);
    const subscription = await subotiz.world.subscription(paid.id);
    expect(subscription.providerRef).not.toBe('');
    const payments = await subotiz.world.paymentsOf(paid.id);
    expect(payments).toHaveLength(1);
    expect(payments[0]!.invoiceId).toMatch(/^inv_/);
  });
});
