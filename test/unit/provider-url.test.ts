import { urlViolations } from '../../src/domain/binding-rules';
import { isLocalAddress, providerUrlViolation } from '../../src/domain/provider-url';

const HOSTS = ['api.subotiz.com', '*.azotte.com'];
const STRICT = { allowlist: [], allowInsecure: false };
const INSECURE = { allowlist: [], allowInsecure: true };

describe('provider base URLs', () => {
  it('accepts https on a documented host, a subdomain of a wildcard host, and an allowlisted host', () => {
    expect(providerUrlViolation('https://api.subotiz.com', HOSTS, STRICT)).toBeUndefined();
    expect(providerUrlViolation('https://API.Subotiz.com./v1', HOSTS, STRICT)).toBeUndefined();
    expect(providerUrlViolation('https://acme.sandbox.azotte.com/api/v1', HOSTS, STRICT)).toBeUndefined();
    expect(providerUrlViolation('https://pay.example.net', HOSTS, { ...STRICT, allowlist: ['pay.example.net'] })).toBe(
      undefined,
    );
  });

  it.each([
    ['http://api.subotiz.com', 'https'],
    ['https://evil.example.com', 'documented host'],
    ['https://azotte.com.evil.example', 'documented host'],
    ['https://evilazotte.com', 'documented host'],
    ['https://user:pw@api.subotiz.com', 'credentials'],
    ['https://api.subotiz.com#frag', 'fragment'],
    ['https://127.0.0.1:8443', 'loopback'],
    ['https://localhost', 'loopback'],
    ['https://[::1]/', 'loopback'],
    ['https://10.1.2.3', 'private'],
    ['https://169.254.169.254/latest/meta-data', 'link-local'],
    ['https://0x7f.1/', 'loopback'],
    ['https://2130706433/', 'loopback'],
    ['ftp://api.subotiz.com', 'https'],
    ['not a url', 'https URL'],
  ])('refuses %s (%s) by default, never quoting it', (url, rule) => {
    const violation = providerUrlViolation(url, HOSTS, STRICT);
    expect(violation).toContain(rule);
    expect(violation).not.toContain('pw');
    expect(violation).not.toContain('evil');
  });

  it('allows http and loopback/private addresses only with the insecure flag, and still refuses credentials', () => {
    expect(providerUrlViolation('http://127.0.0.1:8091', HOSTS, INSECURE)).toBeUndefined();
    expect(providerUrlViolation('http://api.subotiz.com', HOSTS, INSECURE)).toBeUndefined();
    expect(providerUrlViolation('http://evil.example.com', HOSTS, INSECURE)).toContain('documented host');
    expect(providerUrlViolation('http://u:p@127.0.0.1:8091', HOSTS, INSECURE)).toContain('credentials');
  });

  it('never lets the allowlist open a loopback address without the insecure flag', () => {
    expect(
      providerUrlViolation('https://127.0.0.1', HOSTS, { allowlist: ['127.0.0.1'], allowInsecure: false }),
    ).toContain('loopback');
  });

  it('knows local addresses', () => {
    for (const host of [
      '127.0.0.1',
      '10.0.0.1',
      '172.16.0.1',
      '192.168.1.1',
      '100.64.0.1',
      '::1',
      'fd00::1',
      'fe80::1',
    ]) {
      expect({ host, local: isLocalAddress(host) }).toEqual({ host, local: true });
    }
    for (const host of ['8.8.8.8', '172.32.0.1', '2001:db8::1', 'api.subotiz.com']) {
      expect({ host, local: isLocalAddress(host) }).toEqual({ host, local: false });
    }
  });

  it('checks every URL setting of a binding, naming the field', () => {
    const spec = { config: { base_url: { url: true }, mode: {} }, secrets: [], hosts: HOSTS };
    expect(urlViolations(spec, { base_url: 'http://evil.example.com', mode: 'x' }, STRICT)).toEqual([
      { field: 'provider_config.base_url', rule: 'must be an https URL' },
    ]);
    expect(urlViolations(spec, {}, STRICT)).toEqual([]);
  });
});
