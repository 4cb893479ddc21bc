import { formatIp, normalizeIp, parseIp } from '../../src/domain/ip-address';
import { ipAllowed, parseAllowlist, parseCidr } from '../../src/domain/ip-allowlist';

describe('IP addresses', () => {
  it.each([
    ['1.2.3.4', '1.2.3.4'],
    ['0.0.0.0', '0.0.0.0'],
    ['255.255.255.255', '255.255.255.255'],
    ['::1', '::1'],
    ['::', '::'],
    ['2001:DB8::1', '2001:db8::1'],
    ['2001:db8:0:0:1:0:0:1', '2001:db8::1:0:0:1'],
    ['2001:0db8:0000:0000:0000:0000:0002:0001', '2001:db8::2:1'],
    ['fe80::1:2:3:4:5:6', 'fe80:0:1:2:3:4:5:6'],
    ['1:2:3:4:5:6:7:8', '1:2:3:4:5:6:7:8'],
    ['::ffff:1.2.3.4', '1.2.3.4'],
    ['::FFFF:10.0.0.1', '10.0.0.1'],
    ['::ffff:0102:0304', '1.2.3.4'],
    ['64:ff9b::1.2.3.4', '64:ff9b::102:304'],
  ])('reads %s as %s', (text, canonical) => {
    expect(normalizeIp(text)).toBe(canonical);
  });

  it.each([
    '',
    '1.2.3',
    '1.2.3.4.5',
    '256.1.1.1',
    '01.2.3.4',
    '1.2.3.4 ',
    ' 1.2.3.4',
    '1.2.3.-1',
    '1:2:3:4:5:6:7:8:9',
    '1::2::3',
    '1:2:3:4:5:6:7::8',
    '12345::1',
    'fe80::1%eth0',
    ':1',
    '1:',
    'g::1',
    '1.2.3.4:80',
    '[::1]',
    'localhost',
    '::ffff:1.2.3.256',
    'x'.repeat(100),
  ])('refuses %p', (text) => {
    expect(parseIp(text)).toBeUndefined();
  });

  it('keeps IPv4 and IPv6 apart (0.0.0.1 is not ::1)', () => {
    expect(parseIp('0.0.0.1')).toEqual({ version: 4, value: 1n });
    expect(parseIp('::1')).toEqual({ version: 6, value: 1n });
    expect(formatIp({ version: 6, value: 0n })).toBe('::');
  });
});

describe('IP allowlist', () => {
  it.each([
    // [allowlist, address, allowed]
    ['1.2.3.4', '1.2.3.4', true],
    ['1.2.3.4', '1.2.3.5', false],
    ['1.2.3.4', '::ffff:1.2.3.4', true],
    ['::ffff:1.2.3.4', '1.2.3.4', true],
    ['10.0.0.0/8', '10.255.255.255', true],
    ['10.0.0.0/8', '11.0.0.0', false],
    ['192.168.1.0/24', '192.168.1.77', true],
    ['192.168.1.0/24', '192.168.2.1', false],
    ['0.0.0.0/0', '8.8.8.8', true],
    ['0.0.0.0/0', '2001:db8::1', false],
    ['::/0', '2001:db8::1', true],
    ['::/0', '8.8.8.8', false],
    ['2001:db8::/32', '2001:db8:ffff::1', true],
    ['2001:db8::/32', '2001:db9::1', false],
    ['::ffff:10.0.0.0/104', '10.1.2.3', true],
    ['::ffff:10.0.0.0/104', '11.1.2.3', false],
    ['203.0.113.0/24, 2001:db8::/48,1.1.1.1', '1.1.1.1', true],
    ['203.0.113.0/24, 2001:db8::/48,1.1.1.1', '2001:db8:1::9', false],
    ['203.0.113.0/24, 2001:db8::/48,1.1.1.1', 'unknown', false],
    ['', '1.2.3.4', false],
  ])('%p allows %s: %s', (list, address, allowed) => {
    const parsed = parseAllowlist(list);
    if ('error' in parsed) throw new Error(parsed.error);
    expect(ipAllowed(address, parsed.ranges)).toBe(allowed);
  });

  it.each([
    ['1.2.3.4,,5.6.7.8', /entry 2 is empty/],
    ['1.2.3.4,', /entry 2 is empty/],
    ['example.com', /not an IPv4 or IPv6 address/],
    ['10.0.0.0/33', /outside 0\.\.32/],
    ['2001:db8::/129', /outside 0\.\.128/],
    ['::ffff:10.0.0.0/95', /outside 0\.\.128/],
    ['10.0.0.0/x', /not a number/],
    ['10.0.0.0/', /not a number/],
    ['10.0.0.5/8', /host bits set/],
    ['10.0.0.0/8/8', /not an address or CIDR/],
    ['\u0000\u0007'.repeat(50), /not an IPv4/],
  ])('refuses %p, saying why', (list, rule) => {
    const parsed = parseAllowlist(list);
    expect('error' in parsed && parsed.error).toMatch(rule);
    if ('error' in parsed) expect(parsed.error).toMatch(/^[\x20-\x7e]{1,200}$/);
  });

  it('refuses more than 100 entries', () => {
    expect(parseAllowlist(Array(101).fill('1.2.3.4').join(','))).toEqual({ error: 'must list at most 100 entries' });
  });

  it('reads a lone address as a single-host range', () => {
    expect(parseCidr('10.0.0.1')).toEqual({ version: 4, network: 0x0a000001n, prefix: 32 });
    expect(parseCidr('::1')).toEqual({ version: 6, network: 1n, prefix: 128 });
  });
});
