import { Writable } from 'node:stream';
import { createLogger, redactText, redactUrl } from '../../src/telemetry/logger';

/** The JSON lines a logger writes. */
function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { logger: createLogger({ level: 'debug' }, stream), text: () => lines.join('') };
}

describe('the logger never prints a secret', () => {
  const secret = 'sk_live_0123456789abcdef';

  it('redacts secret-bearing keys, at the top and one level down, including Authorization headers', () => {
    const { logger, text } = capture();
    logger.debug(
      {
        api_key: secret,
        secrets: { api_key: secret },
        headers: { authorization: `Bearer ${secret}`, 'hub-access-no': secret },
        request: { headers: { authorization: `Bearer ${secret}` } },
        ctx: { secret, token: secret },
      },
      'calling provider',
    );
    expect(text()).toContain('calling provider');
    expect(text()).not.toContain(secret);
  });

  it('redacts bearer tokens, URL passwords and token query parameters inside text and errors', () => {
    const { logger, text } = capture();
    logger.warn(`provider said: Authorization: Bearer ${secret}`);
    logger.warn({ url: `https://api.example.com/x?access_token=${secret}&page=2` }, 'fetch');
    logger.error({ err: new Error(`connect to https://u:${secret}@db/x failed`) }, 'failed');
    expect(text()).not.toContain(secret);
    expect(text()).toContain('page=2');
  });

  it('redacts text and URLs without losing what is not secret', () => {
    expect(redactText(`Basic ${secret} then`)).toBe('Basic [redacted] then');
    expect(redactUrl(`postgres://billing:${secret}@db:5432/billing`)).not.toContain(secret);
    expect(redactUrl('postgres://db:5432/billing')).toBe('postgres://db:5432/billing');
  });
});
