import * as grpc from '@grpc/grpc-js';
import { Client } from 'pg';
import { FuzzCase, loadFuzzRpcs, MALFORMED } from '../support/fuzz-cases';
import { subotizWorld, SubotizWorld } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { call, startTestService, TEST_KEYS, TestService } from '../support/test-service';

/** Codes that mean the service broke rather than refused: a crash, a hang or an internal error. */
const BROKEN = new Set([grpc.status.INTERNAL, grpc.status.UNKNOWN, grpc.status.DEADLINE_EXCEEDED]);
const DEADLINE_MS = 10_000;
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** Tables only RPCs insert into (webhooks the emulator sends after an accepted call may touch the others). */
const COUNTED = ['storefronts', 'storefront_bindings', 'plans', 'customers', 'subscriptions', 'usage_records'];

/**
 * The metadata of every fuzz call, in one place: a unique idempotency key and correlation id, so the rows a call
 * wrote can be found by them, as the admin test caller (every tenant: the fuzz reaches every use case).
 */
function fuzzMetadata(n: number): grpc.Metadata {
  const metadata = new grpc.Metadata();
  metadata.set('authorization', `Bearer ${TEST_KEYS.admin.key}`);
  metadata.set('idempotency-key', `fuzz-${n}`);
  metadata.set('x-correlation-id', `fuzz-${n}`);
  return metadata;
}

interface Answer {
  code: grpc.status;
  details: string;
  trailers: grpc.Metadata;
}

/** Sends raw request bytes to `path` and resolves with the status, whatever it is. */
function send(client: grpc.Client, path: string, bytes: Buffer, metadata: grpc.Metadata): Promise<Answer> {
  return new Promise((resolve) => {
    const identity = (b: Buffer) => b;
    const unary = client.makeUnaryRequest(
      path,
      identity,
      identity,
      bytes,
      metadata,
      { deadline: Date.now() + DEADLINE_MS },
      () => undefined,
    );
    unary.on('status', (s: grpc.StatusObject) => resolve({ code: s.code, details: s.details, trailers: s.metadata }));
  });
}

describe('no input crashes, hangs or INTERNALs the service (fuzz over every RPC of the proto)', () => {
  let db: TestDatabase;
  let service: TestService;
  let world: SubotizWorld;
  let client: grpc.Client;
  let pg: Client;
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url });
    world = await subotizWorld(service, { storefrontId: 'fuzz-store' });
    client = new grpc.Client(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure());
    pg = new Client({ connectionString: db.url });
    await pg.connect();
  });

  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    client?.close();
    await pg?.end();
    await world?.close();
    await service?.close();
    await db?.drop();
  });

  const counts = async () => {
    const sql = COUNTED.map((t) => `(SELECT count(*) FROM ${t})::int AS ${t}`).join(', ');
    return JSON.stringify((await pg.query(`SELECT ${sql}`)).rows[0]);
  };
  /** The calls (by number) that left an audit row or an idempotency key behind. */
  const tracesOf = async (numbers: number[]) => {
    const ids = new Set(numbers.map((n) => `fuzz-${n}`));
    const audit = await pg.query(`SELECT correlation_id AS id FROM audit_log WHERE correlation_id LIKE 'fuzz-%'`);
    // Matched by suffix: keys may be stored scoped (e.g. by tenant).
    const keys = await pg.query(`SELECT key FROM idempotency_keys WHERE key LIKE '%fuzz-%'`);
    const found = [
      ...audit.rows.map((r: { id: string }) => r.id),
      ...keys.rows.map((r: { key: string }) => /fuzz-\d+$/.exec(r.key)?.[0] ?? ''),
    ];
    return found.filter((id) => ids.has(id));
  };

  it('answers every hostile request with a status other than INTERNAL, before its deadline, writing nothing when refused', async () => {
    const subscriptionId = (await world.activeSubscription()).id;
    const [payment] = await world.paymentsOf(subscriptionId);
    const { invoices } = await call(world.payments, world.payments.listInvoices, {
      subscriptionId,
      customerId: '',
      pageSize: 1,
      pageToken: '',
    });
    const base = {
      storefront_id: world.storefrontId,
      tenant_id: 'tenant-a',
      customer_id: world.customerId,
      plan_id: world.planId,
      subscription_id: subscriptionId,
      payment_id: payment!.id,
      invoice_id: invoices[0]?.id ?? 'inv_01jfuzz',
      refund_id: 'ref_01jfuzz',
      dead_letter_id: 'dlq_01jfuzz',
      aggregate_id: world.customerId,
      provider: 'subotiz',
      email: 'fuzz@example.com',
      name: 'Fuzz',
      country: 'DE',
      currency_code: 'EUR',
      default_currency: 'EUR',
      feature_key: 'pro',
      reference: 'price_fuzz',
      reason: 'fuzz',
      amount_minor: '100',
      page_size: '10',
      quantity: '1',
      expected_version: '1',
    };

    const rpcs = loadFuzzRpcs();
    // Storefront calls last: an accepted SwitchProvider must not change the binding the other RPCs' calls go through.
    rpcs.sort((a, b) => Number(a.path.includes('StorefrontService')) - Number(b.path.includes('StorefrontService')));
    const cases: FuzzCase[] = rpcs.flatMap((rpc) => [
      ...rpc.cases(base),
      ...MALFORMED.map(([label, bytes]) => ({ rpc: rpc.path, label: `malformed: ${label}`, bytes })),
    ]);
    expect(rpcs.length).toBeGreaterThanOrEqual(40);
    expect(cases.length).toBeLessThan(5000);

    const problems: string[] = [];
    const seen = new Map<string, number>();
    let n = 0;
    const runBatch = async (batch: FuzzCase[]) => {
      const numbered = batch.map((c) => ({ ...c, n: ++n }));
      const before = await counts();
      const answers = await inPool(numbered, 6, (fuzz) => send(client, fuzz.rpc, fuzz.bytes, fuzzMetadata(fuzz.n)));
      const refused: (FuzzCase & { n: number })[] = [];
      numbered.forEach((fuzz, i) => {
        const answer = answers[i]!;
        const what = `${fuzz.rpc} [${fuzz.label}] → ${grpc.status[answer.code]} ${answer.details.slice(0, 120)}`;
        seen.set(grpc.status[answer.code], (seen.get(grpc.status[answer.code]) ?? 0) + 1);
        if (BROKEN.has(answer.code) || answer.code === grpc.status.UNAVAILABLE) problems.push(what);
        if (answer.code === grpc.status.OK) return;
        refused.push(fuzz);
        if (answer.details.length > 1000) problems.push(`${what}: details of ${answer.details.length} characters`);
        for (const [key, value] of Object.entries(answer.trailers.getMap())) {
          if (!key.endsWith('-bin') && !PRINTABLE_ASCII.test(String(value))) problems.push(`${what}: trailer ${key}`);
        }
      });
      const after = await counts();
      for (const id of await tracesOf(refused.map((r) => r.n))) {
        problems.push(`${batch[0]!.rpc}: refused call ${id} left an audit row or key`);
      }
      return { refused, rowsChanged: after !== before, detail: `${before} → ${after}` };
    };

    // One RPC at a time, its cases a few at a time. Rows are counted around each batch; when some calls of a batch
    // were accepted (legitimately writing), its refused calls run once more on their own, and then not one row may
    // appear. Every refused call's own audit rows and idempotency key are looked for by its correlation id and key.
    for (const rpc of rpcs.map((r) => r.path)) {
      const batch = cases.filter((c) => c.rpc === rpc);
      const first = await runBatch(batch);
      if (!first.rowsChanged) continue;
      if (first.refused.length === batch.length) {
        problems.push(`${rpc}: refused calls wrote rows ${first.detail}`);
        continue;
      }
      const again = await runBatch(first.refused);
      if (again.rowsChanged && again.refused.length === first.refused.length) {
        problems.push(`${rpc}: refused calls wrote rows ${again.detail}`);
      }
    }

    expect(problems).toEqual([]);
    expect(rejections).toEqual([]);
    // Every kind of answer the fuzz met, for the log when it fails; most are refusals naming the field.
    expect(seen.get('INVALID_ARGUMENT')).toBeGreaterThan(cases.length / 2);

    // Still alive and answering.
    const probe = await call(service.clients.storefronts, service.clients.storefronts.getStorefront, {
      storefrontId: world.storefrontId,
    });
    expect(probe.storefront?.id).toBe(world.storefrontId);
  });
});

/** Runs `work` over `items` with at most `width` at a time; answers in the items' order. */
async function inPool<T, R>(items: T[], width: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: width }, worker));
  return results;
}
