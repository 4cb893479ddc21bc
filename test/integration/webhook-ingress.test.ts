import { status } from '@grpc/grpc-js';
import { createHmac, randomBytes } from 'node:crypto';
import http from 'node:http';
import { eventually } from '../support/eventually';
import { storefrontRequest } from '../support/fixtures';
import { subotizSecretRefs } from '../support/subotiz-world';
import { createTestDatabase, TestDatabase, withClient } from '../support/test-database';
import { call, callError, startTestService, TestService } from '../support/test-service';

/**
 * Ingress order over real HTTP and PostgreSQL: size (413) → storefront (404) → source-IP allowlist (403) →
 * signature (401) → inbox (200). The service trusts 127.0.0.1 as its proxy; other loopback addresses
 * (127.0.0.2, 127.0.0.3) play senders that reach it directly.
 */
describe('webhook ingress: source-IP allowlist and trusted proxies', () => {
  let db: TestDatabase;
  let service: TestService;
  const PROXY = '127.0.0.1';
  const ALLOWED_DIRECT = '127.0.0.2';
  const STRANGER = '127.0.0.3';

  const binding = (config: Record<string, string> = {}) => ({
    provider: 'subotiz',
    providerConfig: {
      base_url: 'https://api.sandbox.subotiz.com',
      auth_mode: 'bearer',
      sub_merchant_id: 'm-1',
      ...config,
    },
    secretRefs: subotizSecretRefs(),
  });

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url, TRUSTED_PROXIES: `${PROXY}, 10.0.0.0/8` });
    const sf = service.clients.storefronts;
    await call(
      sf,
      sf.createStorefront,
      storefrontRequest(
        'guarded',
        binding({ allowed_webhook_ips: `203.0.113.0/24, ${ALLOWED_DIRECT}`, webhook_tolerance_seconds: '600' }),
      ),
    );
    await call(sf, sf.createStorefront, storefrontRequest('open', binding()));
  });

  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  const event = (id = `9${randomBytes(6).readUIntBE(0, 6)}`) =>
    JSON.stringify({ id, type: 'v2.customer.noted', created: new Date().toISOString(), data: {} });

  /** Signed as Subotiz signs, `ageMs` ago; `forged` signs with a secret that is not the storefront's. */
  const signature = (body: string, options: { forged?: boolean; ageMs?: number } = {}) => {
    const ts = String(Date.now() - (options.ageMs ?? 0));
    const secret = options.forged ? 'not-the-secret' : process.env.TEST_SUBOTIZ_WEBHOOK_SECRET!;
    return { 'x-timestamp': ts, 'x-signature': createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex') };
  };

  /** POSTs from a chosen local address, so the service sees that TCP peer. */
  const post = (
    storefront: string,
    from: string,
    body: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: { error?: string; received?: boolean } }> =>
    new Promise((resolve, reject) => {
      const req = http.request(
        {
          host: '127.0.0.1',
          port: service.httpPort,
          localAddress: from,
          method: 'POST',
          path: `/webhooks/subotiz/${storefront}`,
          headers: { 'content-type': 'application/json', ...headers },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode!, body: text ? JSON.parse(text) : {} });
          });
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  const stored = (eventId: string) =>
    withClient(
      db.url,
      async (c) =>
        (await c.query('select source_ip from webhook_inbox where provider_event_id = $1', [JSON.parse(eventId).id]))
          .rows as { source_ip: string }[],
    );

  it('refuses a sender outside the allowlist with 403 before looking at the signature, storing nothing', async () => {
    for (const forged of [true, false]) {
      const body = event();
      const answer = await post('guarded', STRANGER, body, signature(body, { forged }));
      expect(answer).toEqual({
        status: 403,
        body: { error: `source address ${STRANGER} is not allowed for this storefront` },
      });
      expect(await stored(body)).toEqual([]);
    }
  });

  it('checks the signature of an allowed sender: 401 when forged, 200 and stored with its address when signed', async () => {
    const forged = event();
    expect((await post('guarded', ALLOWED_DIRECT, forged, signature(forged, { forged: true }))).status).toBe(401);
    expect(await stored(forged)).toEqual([]);

    const body = event();
    // 500 s old: outside Subotiz's default 300 s, inside this storefront's webhook_tolerance_seconds (600).
    const answer = await post('guarded', ALLOWED_DIRECT, body, signature(body, { ageMs: 500_000 }));
    expect(answer).toEqual({ status: 200, body: { received: true, duplicate: false } });
    expect(await stored(body)).toEqual([{ source_ip: ALLOWED_DIRECT }]);
  });

  it('stores a type it makes no event of as processed at once; one it cannot parse waits for a lane', async () => {
    const inboxRow = (body: string) =>
      withClient(
        db.url,
        async (c) =>
          (
            await c.query(
              `select status, outcome, attempts, processed_at = received_at as at_receipt, last_error is not null as failed
                 from webhook_inbox where provider_event_id = $1`,
              [JSON.parse(body).id],
            )
          ).rows[0] as {
            status: string;
            outcome: string | null;
            attempts: number;
            at_receipt: boolean | null;
            failed: boolean;
          },
      );
    const noted = event();
    expect((await post('open', ALLOWED_DIRECT, noted, signature(noted))).body).toEqual({
      received: true,
      duplicate: false,
    });
    // As a lane would have left it, but at receipt, without one claiming it: acknowledged, recorded, nothing applied.
    expect(await inboxRow(noted)).toEqual({
      status: 'PROCESSED',
      outcome: 'ignored',
      attempts: 0,
      at_receipt: true,
      failed: false,
    });
    expect((await post('open', ALLOWED_DIRECT, noted, signature(noted))).body).toEqual({
      received: true,
      duplicate: true,
    });

    // A type we act on, without the time its event needs: stored pending; the lane cannot read it, and since every
    // attempt would fail alike, it becomes a dead letter at its first (kept for RetryDeadLetter).
    const broken = JSON.stringify({
      id: `9${randomBytes(6).readUIntBE(0, 6)}`,
      type: 'v2.subscription.paused',
      data: {},
    });
    expect((await post('open', ALLOWED_DIRECT, broken, signature(broken))).status).toBe(200);
    const row = await eventually(
      () => inboxRow(broken),
      (r) => r.failed,
    );
    expect(row).toMatchObject({ status: 'DEAD', outcome: null, attempts: 1 });
  });

  it('believes X-Forwarded-For only from a trusted proxy', async () => {
    const body = event();
    const spoofed = { ...signature(body), 'x-forwarded-for': '203.0.113.5' };
    expect((await post('guarded', STRANGER, body, spoofed)).status).toBe(403);

    const forged = { ...signature(body, { forged: true }), 'x-forwarded-for': '203.0.113.5' };
    expect((await post('guarded', PROXY, body, forged)).status).toBe(401);
    // The right-most address the proxy did not add itself decides; what the sender wrote to its left does not.
    for (const chain of ['198.51.100.9', '203.0.113.5, 198.51.100.9', '203.0.113.5, 198.51.100.9, 10.1.2.3']) {
      const answer = await post('guarded', PROXY, body, { ...signature(body), 'x-forwarded-for': chain });
      expect({ chain, status: answer.status, error: answer.body.error }).toEqual({
        chain,
        status: 403,
        error: 'source address 198.51.100.9 is not allowed for this storefront',
      });
    }
    // The proxy itself is not an allowed sender.
    expect((await post('guarded', PROXY, body, signature(body))).status).toBe(403);
    expect(await stored(body)).toEqual([]);

    const answer = await post('guarded', PROXY, body, {
      ...signature(body),
      'x-forwarded-for': '198.51.100.9, ::ffff:203.0.113.5, 10.4.4.4',
    });
    expect(answer.status).toBe(200);
    expect(await stored(body)).toEqual([{ source_ip: '203.0.113.5' }]);
  });

  it('answers 404 for an unknown storefront before any allowlist, whoever sends', async () => {
    const body = event();
    expect((await post('nowhere', STRANGER, body, signature(body))).status).toBe(404);
  });

  it('lets any sender reach the signature check where the storefront has no allowlist', async () => {
    const body = event();
    expect((await post('open', STRANGER, body, signature(body, { forged: true }))).status).toBe(401);
    expect((await post('open', STRANGER, body, signature(body))).status).toBe(200);
  });

  it('refuses an allowlist that does not parse when the binding is written, naming the setting', async () => {
    const sf = service.clients.storefronts;
    const error = await callError(
      sf,
      sf.createStorefront,
      storefrontRequest('badlist', binding({ allowed_webhook_ips: '203.0.113.0/24, example.com' })),
    );
    expect(error.code).toBe(status.INVALID_ARGUMENT);
    expect(error.metadata.get('error-field')[0]).toBe('provider_config.allowed_webhook_ips');
    expect(error.details).toContain("'example.com' is not an IPv4 or IPv6 address");
  });
});
