import { parseAllowlist } from '../../src/domain/ip-allowlist';
import { sourceAddress, UNKNOWN_SOURCE } from '../../src/webhooks/source-address';

function ranges(list: string) {
  const parsed = parseAllowlist(list);
  if ('error' in parsed) throw new Error(parsed.error);
  return parsed.ranges;
}

describe('webhook source address', () => {
  const proxies = ranges('10.0.0.0/8, 2001:db8:ffff::/48');

  it.each([
    // [peer, X-Forwarded-For, trusted proxies, source]
    ['203.0.113.9', undefined, '', '203.0.113.9'],
    ['::ffff:203.0.113.9', undefined, '', '203.0.113.9'],
    ['203.0.113.9', '198.51.100.1', '', '203.0.113.9'],
    ['203.0.113.9', '198.51.100.1', 'trusted', '203.0.113.9'],
    ['10.1.1.1', undefined, 'trusted', '10.1.1.1'],
    ['10.1.1.1', '198.51.100.1', 'trusted', '198.51.100.1'],
    ['::ffff:10.1.1.1', '198.51.100.1', 'trusted', '198.51.100.1'],
    ['10.1.1.1', '6.6.6.6, 198.51.100.1', 'trusted', '198.51.100.1'],
    ['10.1.1.1', '6.6.6.6, 198.51.100.1, 10.2.2.2', 'trusted', '198.51.100.1'],
    ['10.1.1.1', '198.51.100.1,10.2.2.2,10.3.3.3', 'trusted', '198.51.100.1'],
    ['10.1.1.1', '10.9.9.9, 10.2.2.2', 'trusted', '10.9.9.9'],
    ['10.1.1.1', '::ffff:198.51.100.1', 'trusted', '198.51.100.1'],
    ['10.1.1.1', '[2001:db8::5]:443', 'trusted', '2001:db8::5'],
    ['10.1.1.1', '198.51.100.1:5000', 'trusted', '198.51.100.1'],
    ['2001:db8:ffff::1', '2001:DB8::7', 'trusted', '2001:db8::7'],
    ['10.1.1.1', 'garbage', 'trusted', UNKNOWN_SOURCE],
    ['10.1.1.1', '198.51.100.1, garbage', 'trusted', UNKNOWN_SOURCE],
    ['10.1.1.1', 'garbage, 198.51.100.1', 'trusted', '198.51.100.1'],
    ['10.1.1.1', '', 'trusted', '10.1.1.1'],
    ['fe80::1%eth0', undefined, '', 'fe80::1'],
    [undefined, '198.51.100.1', 'trusted', UNKNOWN_SOURCE],
  ])('peer %s, X-Forwarded-For %p, proxies %p → %s', (peer, xff, trust, source) => {
    expect(sourceAddress(peer, xff, trust ? proxies : [])).toBe(source);
  });
});
