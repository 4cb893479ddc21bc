import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import { Database, openDatabase } from '../../src/store/database';
import type { NewInboxEntry } from '../../src/ports/store.port';
import { InboxBacklogFull, InboxBatchWriter, insertInboxRows } from '../../src/store/inbox-batch-writer';
import { migrateToLatest } from '../../src/store/migrate';
import { storefrontRequest } from '../support/fixtures';
import { subotizSecretRefs } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, startTestService, TestService } from '../support/test-service';

/**
 * Group commit of inbox inserts (InboxBatchWriter): callers issued together share statements, each is told whether
 * its row was stored or a duplicate, rows keep their order of arrival, and a statement the database refuses fails
 * its own callers only.
 */
const entry = (id: string, storefrontId = 'store-1'): NewInboxEntry => ({
  provider: 'subotiz',
  storefrontId,
  providerEventId: id,
  eventType: 'v2.customer.noted',
  headers: { 'x-id': id },
  body: Buffer.from(JSON.stringify({ id })),
  receivedAt: new Date('2030-01-01T00:00:00Z'),
});

const settled = (promises: Promise<boolean>[]) =>
  Promise.allSettled(promises).then((results) =>
    results.map((r) => (r.status === 'fulfilled' ? r.value : `failed: ${(r.reason as Error).message.slice(-40)}`)),
  );

const postgres = async () => {
  const db: TestDatabase = await createTestDatabase();
  return { database: openDatabase({ databaseUrl: db.url, dataDir: ':memory:' }), drop: () => db.drop() };
};
const pglite = async () => ({ database: openDatabase({ dataDir: ':memory:' }), drop: undefined });

describe.each([
  ['PostgreSQL', postgres],
  ['embedded PGlite', pglite],
])('inbox group commit (%s)', (kind, open) => {
  let database: Database;
  let drop: (() => Promise<void>) | undefined;
  let statements = 0;

  beforeAll(async () => {
    ({ database, drop } = await open());
    await migrateToLatest(database.knex);
    database.knex.on('query', (query: { sql: string }) => {
      if (/^insert into webhook_inbox/i.test(query.sql)) statements += 1;
    });
  });
  beforeEach(async () => {
    await database.knex('webhook_inbox').delete();
    statements = 0;
  });
  afterAll(async () => {
    await database?.close();
    await drop?.();
  });

  const rows = async () =>
    (await database.knex('webhook_inbox').select('provider_event_id', 'storefront_id').orderBy('id')).map(
      (r: { provider_event_id: string; storefront_id: string }) => `${r.storefront_id}/${r.provider_event_id}`,
    );

  it('stores each key once and tells each caller stored or duplicate, within a batch and across batches', async () => {
    const writer = new InboxBatchWriter(database.knex, { maxRows: 4 });
    // Issued together: the first goes alone (nothing in flight), the rest wait and go four at a time.
    const ids = ['a', 'b', 'c', 'b', 'a', 'd', 'e', 'e', 'f', 'g', 'c', 'h', 'e'];
    const first = await settled(ids.map((id) => writer.insert(entry(id))));
    expect(first).toEqual([true, true, true, false, false, true, true, false, true, true, false, true, false]);
    expect(statements).toBe(1 + Math.ceil((ids.length - 1) / 4));
    // Kept in order of arrival (the inbox orders each key's rows by it); the same id on another storefront is new.
    expect(await rows()).toEqual(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((id) => `store-1/${id}`));

    const again = await settled([
      writer.insert(entry('a')),
      writer.insert(entry('a', 'store-2')),
      writer.insert(entry('i')),
    ]);
    expect(again).toEqual([false, true, true]);
    expect((await rows()).length).toBe(10);
  });

  it('answers hundreds of concurrent callers with fewer statements than rows, each key stored once', async () => {
    const writer = new InboxBatchWriter(database.knex);
    const ids = Array.from({ length: 300 }, (_, i) => `evt-${i % 120}`);
    const answers = await settled(ids.map((id) => writer.insert(entry(id))));
    const storedPerKey = new Map<string, number>();
    ids.forEach((id, i) => storedPerKey.set(id, (storedPerKey.get(id) ?? 0) + (answers[i] === true ? 1 : 0)));
    expect(new Set(storedPerKey.values())).toEqual(new Set([1]));
    expect(answers.filter((a) => a === false)).toHaveLength(180);
    expect((await rows()).length).toBe(120);
    expect(statements).toBeLessThan(10);
  });

  it('fails only the callers of a statement the database refuses; the next batch is stored', async () => {
    const writer = new InboxBatchWriter(database.knex, { maxRows: 3 });
    // PostgreSQL text cannot hold NUL: the second statement (x1, bad, x2) is refused as a whole.
    const ids = ['x0', 'x1', 'bad\u0000id', 'x2', 'x3', 'x4', 'x1'];
    const answers = await settled(ids.map((id) => writer.insert(entry(id))));
    expect(answers.map((a) => (a === true || a === false ? a : 'failed'))).toEqual([
      true,
      'failed',
      'failed',
      'failed',
      true,
      true,
      true,
    ]);
    expect(await rows()).toEqual(['x0', 'x3', 'x4', 'x1'].map((id) => `store-1/${id}`));
    // The refused callers retry (the sender is answered 503); their rows go in now.
    expect(await settled([writer.insert(entry('x1')), writer.insert(entry('x2'))])).toEqual([false, true]);
  });

  // A second session holding a key is what a stalled statement looks like; PGlite has one session only.
  (kind === 'PostgreSQL' ? it : it.skip)(
    'refuses arrivals at once while too many wait behind a stalled statement, then stores those that waited',
    async () => {
      const holder = await database.knex.transaction();
      try {
        await insertInboxRows(holder, [entry('held')]);
        const writer = new InboxBatchWriter(database.knex, { maxQueuedRows: 2 });
        // 'held' waits on the holder's uncommitted row; two more wait for the next statement; the fourth is refused.
        const waiting = [writer.insert(entry('held')), writer.insert(entry('w1')), writer.insert(entry('w2'))];
        await expect(writer.insert(entry('w3'))).rejects.toBeInstanceOf(InboxBacklogFull);
        await holder.rollback();
        expect(await settled(waiting)).toEqual([true, true, true]);
      } finally {
        if (!holder.isCompleted()) await holder.rollback();
      }
      expect(await rows()).toEqual(['held', 'w1', 'w2'].map((id) => `store-1/${id}`));
    },
  );

  it('keeps one row per statement alone when it exceeds the byte cap', async () => {
    const writer = new InboxBatchWriter(database.knex, { maxBytes: 1024 });
    const big = (id: string) => ({ ...entry(id), body: Buffer.alloc(900, 'x') });
    const answers = await settled([writer.insert(big('p')), writer.insert(big('q')), writer.insert(big('r'))]);
    expect(answers).toEqual([true, true, true]);
    expect(statements).toBe(3);
  });
});

describe('webhook ingress over HTTP with group commit (PostgreSQL)', () => {
  let db: TestDatabase;
  let service: TestService;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url });
    const sf = service.clients.storefronts;
    await call(
      sf,
      sf.createStorefront,
      storefrontRequest('batched', {
        provider: 'subotiz',
        providerConfig: { base_url: 'https://api.sandbox.subotiz.com', auth_mode: 'bearer', sub_merchant_id: 'm-1' },
        secretRefs: subotizSecretRefs(),
      }),
    );
  });
  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  const signed = (id: string) => {
    const body = JSON.stringify({ id, type: 'v2.customer.noted', created: new Date().toISOString(), data: {} });
    const ts = String(Date.now());
    const sig = createHmac('sha256', process.env.TEST_SUBOTIZ_WEBHOOK_SECRET!).update(`${ts}.${body}`).digest('hex');
    return { body, headers: { 'x-timestamp': ts, 'x-signature': sig } };
  };
  const post = (id: string): Promise<{ status: number; body: { duplicate?: boolean; error?: string } }> =>
    new Promise((resolve, reject) => {
      const { body, headers } = signed(id);
      const req = http.request(
        {
          host: '127.0.0.1',
          port: service.httpPort,
          method: 'POST',
          path: '/webhooks/subotiz/batched',
          headers: { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(Buffer.concat(chunks).toString()) }));
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  it('answers every concurrent delivery 200, exactly one per event as new, and stores each event once', async () => {
    const run = randomBytes(4).toString('hex');
    const ids = Array.from({ length: 80 }, (_, i) => `${run}-${i % 20}`);
    const answers = await Promise.all(ids.map(post));
    expect(new Set(answers.map((a) => a.status))).toEqual(new Set([200]));
    const fresh = ids.filter((_, i) => answers[i]!.body.duplicate === false);
    expect(fresh.sort()).toEqual([...new Set(ids)].sort());
    const counts = await withClient(db.url, (c) =>
      c.query<{ n: number }>(
        'select count(*)::int as n from webhook_inbox where provider_event_id like $1 group by provider_event_id',
        [`${run}-%`],
      ),
    );
    expect(counts.rows.map((r) => r.n)).toEqual(Array(20).fill(1));
  });

  it('refuses an event id the inbox cannot hold (400), so it never fails the webhooks batched with it', async () => {
    const answer = await post(`nul\u0000${randomBytes(2).toString('hex')}`);
    expect(answer.status).toBe(400);
    expect((await post(`after-${randomBytes(4).toString('hex')}`)).body.duplicate).toBe(false);
  });
});
