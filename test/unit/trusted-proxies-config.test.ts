import { loadConfig } from '../../src/config/config';

describe('TRUSTED_PROXIES', () => {
  it('trusts no proxy by default', () => {
    expect(loadConfig({}).trustedProxies).toEqual([]);
  });

  it('reads comma-separated addresses and CIDRs, IPv4 and IPv6', () => {
    expect(loadConfig({ TRUSTED_PROXIES: '10.0.0.0/8, 192.0.2.7,fd00::/8' }).trustedProxies).toEqual([
      { version: 4, network: 0x0a000000n, prefix: 8 },
      { version: 4, network: 0xc0000207n, prefix: 32 },
      { version: 6, network: 0xfdn << 120n, prefix: 8 },
    ]);
  });

  it.each(['10.0.0.0/40', 'proxy.internal', '10.0.0.1,,10.0.0.2', '10.0.0.1/8'])(
    'refuses %p at start-up, naming the variable',
    (value) => {
      expect(() => loadConfig({ TRUSTED_PROXIES: value })).toThrow(/^TRUSTED_PROXIES: /);
    },
  );
});
