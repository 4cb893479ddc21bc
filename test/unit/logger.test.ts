import { Writable } from 'node:stream';
import { createLogger, redactText, redactUrl } from '../../src/telemetry/logger';
import { isSecretKey, redactSecrets } from '../../src/telemetry/secret-redaction';

/** The JSON lines a logger writes. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  const logger = createLogger({ level: 'debug' }, stream);
  return {
    logger,
    text: () => lines.join(''),
    records: () =>
      lines
        .join('')
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

describe('the logger never prints a secret', () => {
  const secret = 'sk_live_0123456789abcdef';

  it('redacts secret-bearing keys, at the top and one level down, including Authorization headers', () => {
    const { logger, text } = capture();
    logger.debug(
      {
        api_key: secret,
        secrets: { api_key: secret },
        headers: { authorization: `Bearer ${secret}`, 'x-signature': secret },
        request: { headers: { authorization: `Bearer ${secret}` } },
        ctx: { secret, token: secret },
      },
      'calling provider',
    );
    expect(text()).toContain('calling provider');
    expect(text()).not.toContain(secret);
  });

  it('redacts any header or key that names a credential, whatever its spelling and however deep', () => {
    const { logger, text, records } = capture();
    logger.info(
      {
        call: {
          request: {
            headers: {
              'X-Api-Key': secret,
              'Proxy-Authorization': secret,
              Cookie: secret,
              'set-cookie': [secret],
              'X-Webhook-Signature': secret,
              'x-request-signature-256': secret,
            },
            body: { client_secret: secret, refreshToken: secret, password: secret, privateKey: secret },
          },
          attempts: [{ credentials: { user: 'u', pass: secret } }, { webhookSecret: secret }],
        },
        databaseUrl: `postgres://db/x?password=${secret}`,
      },
      'deep',
    );
    expect(text()).not.toContain(secret);
    const headers = (records()[0] as { call: { request: { headers: Record<string, unknown> } } }).call.request.headers;
    expect(headers['X-Api-Key']).toBe('[redacted]');
    expect(headers['x-request-signature-256']).toBe('[redacted]');
  });

  it('keeps what is not secret: tenant headers, paging cursors, verification flags, ids', () => {
    const { logger, records } = capture();
    logger.info(
      {
        headers: { 'x-tn': 'tenant-7', 'x-request-id': 'req-1', 'content-type': 'application/json' },
        page_token: 'cursor-2',
        nextPageToken: 'cursor-3',
        signatureValid: false,
        subscriptionId: 'sub_01',
      },
      'kept',
    );
    const [record] = records();
    expect(record).toMatchObject({
      headers: { 'x-tn': 'tenant-7', 'x-request-id': 'req-1', 'content-type': 'application/json' },
      page_token: 'cursor-2',
      nextPageToken: 'cursor-3',
      signatureValid: false,
      subscriptionId: 'sub_01',
      msg: 'kept',
    });
  });

  it('redacts bearer tokens, URL passwords and token query parameters inside text and errors', () => {
    const { logger, text } = capture();
    logger.warn(`provider said: Authorization: Bearer ${secret}`);
    logger.warn({ url: `https://api.example.com/x?access_token=${secret}&page=2` }, 'fetch');
    logger.error({ err: new Error(`connect to https://u:${secret}@db/x failed`) }, 'failed');
    expect(text()).not.toContain(secret);
    expect(text()).toContain('page=2');
  });

  it('redacts errors: their message when logged alone, their own fields, their cause, errors nested elsewhere', () => {
    const { logger, text, records } = capture();
    const failure = Object.assign(new Error(`401 for Bearer ${secret}`, { cause: new Error(`Basic ${secret}`) }), {
      request: { headers: { authorization: secret } },
      status: 401,
    });
    logger.error(failure);
    logger.error({ err: failure }, 'with message');
    logger.warn({ detail: { lastError: failure } }, 'nested');
    logger.info('formatted %s', `Bearer ${secret}`);
    expect(text()).not.toContain(secret);
    const [alone, withMessage] = records();
    expect(alone).toMatchObject({ msg: '401 for Bearer [redacted]', err: { type: 'Error', status: 401 } });
    expect(withMessage).toMatchObject({
      msg: 'with message',
      err: { request: { headers: { authorization: '[redacted]' } } },
    });
  });

  it('redacts the bindings of child loggers', () => {
    const { logger, text } = capture();
    const child = logger.child({ component: 'client', apiKey: secret });
    child.info('child');
    child.child({ headers: { authorization: secret } }).info('grandchild');
    expect(text()).toContain('"component":"client"');
    expect(text()).toContain('grandchild');
    expect(text()).not.toContain(secret);
  });

  it('redacts text and URLs without losing what is not secret', () => {
    expect(redactText(`Basic ${secret} then`)).toBe('Basic [redacted] then');
    expect(redactUrl(`postgres://billing:${secret}@db:5432/billing`)).not.toContain(secret);
    expect(redactUrl('postgres://db:5432/billing')).toBe('postgres://db:5432/billing');
  });
});

describe('secret redaction', () => {
  it.each([
    ['authorization', true],
    ['Cookie', true],
    ['x-api-key', true],
    ['apiKey', true],
    ['X-Signature', true],
    ['webhook_signing_secret', true],
    ['access_token', true],
    ['password', true],
    ['private_key', true],
    // A binding secret some providers send as a header (hub-access-no) or body field.
    ['hub-access-no', true],
    ['access_no', true],
    ['x-tn', false],
    ['page_token', false],
    ['customer_id', false],
    ['key_sha256', false],
  ])('treats %s as secret: %s', (key, secret) => {
    expect(isSecretKey(key)).toBe(secret);
  });

  it('leaves the logged object unchanged and survives cycles', () => {
    const original: Record<string, unknown> = { headers: { authorization: 'Bearer abc' }, id: 'x' };
    original.self = original;
    const redacted = redactSecrets(original) as Record<string, unknown>;
    expect(redacted).toMatchObject({ headers: { authorization: '[redacted]' }, id: 'x', self: '[Circular]' });
    expect(original.headers).toEqual({ authorization: 'Bearer abc' });
  });
});
