import type { Customer } from '../../src/domain/customer';
import { BillingEvent } from '../../src/gen/billing/v1/event';
import type {
  HeldIdempotencyKey,
  JournalRepositories,
  KeyClaimAtCommit,
  Repositories,
} from '../../src/ports/store.port';
import { IdempotencyStore } from '../../src/store/idempotency-store';
import { insertInboxRows } from '../../src/store/inbox-batch-writer';
import { systemClock } from '../../src/ports/clock.port';
import { Database, openDatabase } from '../../src/store/database';
import { migrateToLatest } from '../../src/store/migrate';
import { KnexUnitOfWork } from '../../src/store/unit-of-work';
import { customerEventDraft } from '../support/fixtures';
import { createTestDatabase, TestDatabase } from '../support/test-database';

const ACTOR = { actor: 'test', correlationId: 'journal' };

const customerEvent = (key: string, name: string) => customerEventDraft(key, name, 'billing.customer.updated');

interface Row {
  key: string;
  sequence: string;
  payload: Buffer;
}

/**
 * A transaction's events, audit rows and keyed response are written in one statement at its end (the change
 * journal): each event still gets its key's next sequence, gap-free, in the order it was appended, and its payload
 * decodes to that sequence; writers of one key still commit in sequence order. On PostgreSQL and on PGlite (the
 * embedded default), since the numbering is SQL of ours.
 */
describe.each([
  ['PostgreSQL', true],
  ['PGlite', false],
])('the change journal on %s', (_name, postgres) => {
  let db: TestDatabase | undefined;
  let database: Database;
  let uow: KnexUnitOfWork;

  beforeAll(async () => {
    db = postgres ? await createTestDatabase() : undefined;
    database = openDatabase({ databaseUrl: db?.url ?? '', dataDir: ':memory:' });
    await migrateToLatest(database.knex);
    uow = new KnexUnitOfWork(database.knex, systemClock);
  });

  afterAll(async () => {
    await database?.close();
    await db?.drop();
  });

  const rowsOf = async (key: string): Promise<Row[]> =>
    database.knex('outbox').where({ key }).orderBy('id').select('key', 'sequence', 'payload');
  const decoded = (rows: Row[]) =>
    rows.map((r) => {
      const event = BillingEvent.decode(r.payload);
      return { column: Number(r.sequence), payload: Number(event.sequence), name: event.customer?.name };
    });

  it('numbers several events of several keys in one transaction, in append order, payload matching the column', async () => {
    await uow.transaction(async (repos) => {
      await repos.outbox.append(customerEvent('k-a', 'a1'), ACTOR);
      await repos.outbox.append(customerEvent('k-b', 'b1'), ACTOR);
      await repos.outbox.append(customerEvent('k-a', 'a2'), ACTOR);
      await repos.audit.record({ ...ACTOR, action: 'Test', resourceType: 'customer', resourceId: 'k-a' });
      await repos.outbox.append(customerEvent('k-a', 'a3'), ACTOR);
    });
    await uow.transaction(async (repos) => {
      await repos.outbox.append(customerEvent('k-b', 'b2'), ACTOR);
      await repos.outbox.append(customerEvent('k-a', 'a4'), ACTOR);
    });
    expect(decoded(await rowsOf('k-a'))).toEqual([
      { column: 1, payload: 1, name: 'a1' },
      { column: 2, payload: 2, name: 'a2' },
      { column: 3, payload: 3, name: 'a3' },
      { column: 4, payload: 4, name: 'a4' },
    ]);
    expect(decoded(await rowsOf('k-b'))).toEqual([
      { column: 1, payload: 1, name: 'b1' },
      { column: 2, payload: 2, name: 'b2' },
    ]);
    const audit = await database.knex('audit_log').where({ resource_id: 'k-a' }).select('action', 'actor');
    expect(audit).toEqual([{ action: 'Test', actor: 'test' }]);
  });

  it('encodes any sequence as protobuf does (varints of 1 to 9 bytes)', async () => {
    for (const n of [1n, 127n, 128n, 300n, 16_383n, 16_384n, 2n ** 31n, 2n ** 53n + 1n, 2n ** 63n - 1n]) {
      const { rows } = await database.knex.raw('SELECT billing_event_sequence_field(?::bigint) AS field', [
        n.toString(),
      ]);
      const expected = BillingEvent.encode(BillingEvent.fromPartial({ sequence: n })).finish();
      expect(Buffer.from(rows[0].field)).toEqual(Buffer.from(expected));
    }
  });

  it('writes nothing when the transaction fails after appending', async () => {
    await expect(
      uow.transaction(async (repos) => {
        await repos.outbox.append(customerEvent('k-c', 'lost'), ACTOR);
        throw new Error('the change failed');
      }),
    ).rejects.toThrow('the change failed');
    expect(await rowsOf('k-c')).toEqual([]);
    await uow.transaction((repos) => repos.outbox.append(customerEvent('k-c', 'kept'), ACTOR));
    expect(decoded(await rowsOf('k-c'))).toEqual([{ column: 1, payload: 1, name: 'kept' }]);
  });

  describe("a processed webhook's mark, riding the events' statement", () => {
    const pendingWebhook = async (eventId: string): Promise<string> => {
      await insertInboxRows(database.knex, [
        {
          provider: 'subotiz',
          storefrontId: 'store-1',
          providerEventId: eventId,
          eventType: 'v2.subscription.updated',
          headers: {},
          body: Buffer.from('{}'),
          receivedAt: new Date(),
        },
      ]);
      const row = await database.knex('webhook_inbox').where({ provider_event_id: eventId }).first('id');
      return String(row.id);
    };
    const statusOf = async (id: string) => (await database.knex('webhook_inbox').where({ id }).first('status')).status;

    it('is written with the events, or not at all', async () => {
      const kept = await pendingWebhook('evt-ride-kept');
      await uow.transaction(async (repos) => {
        await repos.outbox.append(customerEvent('k-ride', 'applied'), ACTOR);
        await repos.inbox.markProcessed(kept, new Date(), 'applied');
      });
      expect(await statusOf(kept)).toBe('PROCESSED');
      expect(decoded(await rowsOf('k-ride'))).toEqual([{ column: 1, payload: 1, name: 'applied' }]);

      const lost = await pendingWebhook('evt-ride-lost');
      await expect(
        uow.transaction(async (repos) => {
          await repos.outbox.append(customerEvent('k-ride', 'lost'), ACTOR);
          await repos.inbox.markProcessed(lost, new Date(), 'applied');
          throw new Error('the change failed');
        }),
      ).rejects.toThrow('the change failed');
      expect(await statusOf(lost)).toBe('PENDING');
      expect(await rowsOf('k-ride')).toHaveLength(1);
    });

    it('is refused where it is made twice in one transaction, and nothing is written', async () => {
      const id = await pendingWebhook('evt-ride-twice');
      await expect(
        uow.transaction(async (repos) => {
          await repos.inbox.markProcessed(id, new Date(), 'applied');
          await repos.inbox.markProcessed(id, new Date(), 'applied');
        }),
      ).rejects.toThrow('markProcessed rides a statement once');
      expect(await statusOf(id)).toBe('PENDING');
    });
  });

  it('concurrent writers of one key: gap-free, and outbox order is sequence order', async () => {
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        uow.transaction(async (repos) => {
          await repos.outbox.append(customerEvent('k-hot', `w${i}`), ACTOR);
          await repos.outbox.append(customerEvent(`k-own-${i}`, `w${i}`), ACTOR);
          await repos.outbox.append(customerEvent('k-hot', `w${i}-again`), ACTOR);
        }),
      ),
    );
    const hot = decoded(await rowsOf('k-hot'));
    expect(hot.map((e) => e.column)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(hot.every((e) => e.payload === e.column)).toBe(true);
    // A transaction's two events of the key are adjacent and in append order.
    for (let i = 0; i < 40; i += 2) expect(hot[i + 1]!.name).toBe(`${hot[i]!.name}-again`);
  });

  describe('with a lead row (insertCustomer: the customer, its event, audit and response in one statement)', () => {
    const T0 = new Date('2026-01-01T00:00:00Z');
    const customer = (id: string, email: string): Customer => ({
      id,
      storefrontId: 'journal-store',
      externalRef: '',
      email,
      name: `Name of ${id}`,
      phone: '',
      country: 'DE',
      address: { line1: 'Street 1', line2: '', city: 'Berlin', region: '', postalCode: '10115', country: 'DE' },
      providerRefs: {},
      version: 1,
      createdAt: T0,
      updatedAt: T0,
    });
    const keys = () => new IdempotencyStore(database.knex, { retentionMs: 86_400_000, leaseMs: 60_000 });
    /** A recorder like the keyed call's: stores the response, and fails the call when the key was lost. */
    const recorder = (held: HeldIdempotencyKey) => ({
      record: async (repos: Pick<Repositories, 'idempotency'>, value: unknown) => {
        if (!(await repos.idempotency.complete(held, Buffer.from(String(value))))) throw new Error('key lost');
      },
    });
    const record = (c: Customer) => async (repos: JournalRepositories) => {
      await repos.outbox.append(customerEventDraft(c.id, c.name, 'billing.customer.created'), ACTOR);
      await repos.audit.record({ ...ACTOR, action: 'CreateCustomer', resourceType: 'customer', resourceId: c.id });
      return `created ${c.id}`;
    };
    const written = async (id: string) => ({
      customer: await database.knex('customers').where({ id }).first(),
      events: decoded(await rowsOf(id)),
      audit: await database.knex('audit_log').where({ resource_id: id }).select('action'),
    });
    const keyRow = (key: string) =>
      database.knex('idempotency_keys').where({ scope: 't', key }).first('state', 'response');

    beforeAll(async () => {
      await uow.transaction((repos) =>
        repos.storefronts.insert({
          id: 'journal-store',
          tenantId: 't',
          name: 'Journal',
          country: 'DE',
          defaultCurrency: 'EUR',
          binding: { provider: 'subotiz', config: {}, secretRefs: {}, validFrom: T0, actor: 'test', reason: 'test' },
          version: 1,
          createdAt: T0,
          updatedAt: T0,
        }),
      );
    });

    it('writes the customer, its event, its audit row and the response together', async () => {
      const claim = await keys().claim('t', 'k-new', 'test/Create', 'h');
      const held = { scope: 't', key: 'k-new', owner: (claim as { owner: string }).owner };
      const c = customer('cus_lead_new', 'new@example.com');
      const result = await uow.insertCustomer(c, record(c), { completion: recorder(held) });

      expect(result).toEqual({ inserted: true, value: 'created cus_lead_new' });
      const now = await written(c.id);
      expect(now.customer).toMatchObject({ email: 'new@example.com', version: expect.anything() });
      expect(now.customer.address).toMatchObject({ city: 'Berlin' });
      expect(now.events).toEqual([{ column: 1, payload: 1, name: 'Name of cus_lead_new' }]);
      expect(now.audit).toEqual([{ action: 'CreateCustomer' }]);
      const key = await keyRow('k-new');
      expect([key.state, Buffer.from(key.response).toString()]).toEqual(['DONE', 'created cus_lead_new']);
    });

    it('writes nothing when the email is taken, and leaves the key to the fallback', async () => {
      const first = customer('cus_lead_first', 'taken@example.com');
      await uow.insertCustomer(first, record(first));
      const claim = await keys().claim('t', 'k-taken', 'test/Create', 'h');
      const held = { scope: 't', key: 'k-taken', owner: (claim as { owner: string }).owner };
      const again = customer('cus_lead_again', 'Taken@Example.com');
      const result = await uow.insertCustomer(again, record(again), { completion: recorder(held) });

      expect(result).toEqual({ inserted: false });
      expect(await written(again.id)).toEqual({ customer: undefined, events: [], audit: [] });
      expect((await keyRow('k-taken')).state).toBe('IN_FLIGHT');
    });

    describe('claiming the key in the same statement (a key no attempt holds yet)', () => {
      const claimOf = (key: string) => keys().claimAtCommit('t', key, 'test/Create', 'h');
      const claimer = (claim: KeyClaimAtCommit) => ({
        record: async (repos: Pick<Repositories, 'idempotency'>, value: unknown) => {
          if (!(await repos.idempotency.claimAndComplete(claim, Buffer.from(String(value))))) throw new Error('exists');
        },
      });

      it('claims a new key done with the response, with the customer, event and audit', async () => {
        const c = customer('cus_claim_new', 'claim-new@example.com');
        const result = await uow.insertCustomer(c, record(c), { completion: claimer(claimOf('k-claim-new')) });

        expect(result).toEqual({ inserted: true, value: 'created cus_claim_new' });
        const now = await written(c.id);
        expect([now.customer?.id, now.events.length, now.audit.length]).toEqual([c.id, 1, 1]);
        const key = await keyRow('k-claim-new');
        expect([key.state, Buffer.from(key.response).toString()]).toEqual(['DONE', 'created cus_claim_new']);
      });

      it('writes nothing when the key exists (the call then runs the usual way)', async () => {
        await keys().claim('t', 'k-claim-taken', 'test/Create', 'h');
        const c = customer('cus_claim_keyed', 'claim-keyed@example.com');
        await expect(
          uow.insertCustomer(c, record(c), { completion: claimer(claimOf('k-claim-taken')) }),
        ).rejects.toThrow('exists');

        expect(await written(c.id)).toEqual({ customer: undefined, events: [], audit: [] });
        expect((await keyRow('k-claim-taken')).state).toBe('IN_FLIGHT');
      });

      it('undoes its claim when the email is taken: no key, nothing written', async () => {
        const first = customer('cus_claim_first', 'claim-taken@example.com');
        await uow.insertCustomer(first, record(first));
        const again = customer('cus_claim_again', 'claim-taken@example.com');
        const result = await uow.insertCustomer(again, record(again), {
          completion: claimer(claimOf('k-claim-email')),
        });

        expect(result).toEqual({ inserted: false });
        expect(await written(again.id)).toEqual({ customer: undefined, events: [], audit: [] });
        expect(await keyRow('k-claim-email')).toBeUndefined();
        // The fallback, an ordinary transaction, claims the key with its own answer.
        const answered = await uow.transaction(async () => 'existing cus_claim_first', {
          completion: claimer(claimOf('k-claim-email')),
        });
        expect(answered).toBe('existing cus_claim_first');
        const key = await keyRow('k-claim-email');
        expect([key.state, Buffer.from(key.response).toString()]).toEqual(['DONE', 'existing cus_claim_first']);
      });
    });

    it('writes nothing when the call no longer holds its key (taken over)', async () => {
      await keys().claim('t', 'k-lost', 'test/Create', 'h');
      const c = customer('cus_lead_lost', 'lost@example.com');
      const notOurs = { scope: 't', key: 'k-lost', owner: 'another-attempt' };
      await expect(uow.insertCustomer(c, record(c), { completion: recorder(notOurs) })).rejects.toThrow('key lost');

      expect(await written(c.id)).toEqual({ customer: undefined, events: [], audit: [] });
      expect((await keyRow('k-lost')).state).toBe('IN_FLIGHT');
    });
  });
});
