import { createHash, createHmac } from 'node:crypto';
import {
  constantTimeEqual,
  hmacSha256Base64,
  hmacSha256Hex,
  matchSecret,
  sha256Hex,
  timestampOutsideTolerance,
} from '../../adapters/kit/signatures';

describe('kit signatures', () => {
  const body = Buffer.from('{"id":1}');

  it('computes HMAC-SHA256 (hex, base64) and SHA-256 over pieces as over their concatenation', () => {
    const whole = Buffer.concat([Buffer.from('123.'), body]);
    expect(hmacSha256Hex('k', '123.', body)).toBe(createHmac('sha256', 'k').update(whole).digest('hex'));
    expect(hmacSha256Base64('k', '123.', body)).toBe(createHmac('sha256', 'k').update(whole).digest('base64'));
    expect(sha256Hex('ab', Buffer.from('c'))).toBe(createHash('sha256').update('abc').digest('hex'));
  });

  it('compares in constant time, refusing different lengths', () => {
    expect(constantTimeEqual('abc', 'abc')).toBe(true);
    expect(constantTimeEqual('abc', 'abd')).toBe(false);
    expect(constantTimeEqual('abc', 'abcd')).toBe(false);
    expect(constantTimeEqual(Buffer.from('x'), 'x')).toBe(true);
  });

  it('tells which of the current and previous secrets signed, hex case-insensitively', () => {
    const sign = (secret: string) => hmacSha256Hex(secret, body);
    expect(matchSecret({ current: 'new', previous: 'old' }, sign('new'), sign)).toBe('current');
    expect(matchSecret({ current: 'new', previous: 'old' }, sign('old').toUpperCase(), sign)).toBe('previous');
    expect(matchSecret({ current: 'new' }, sign('old'), sign)).toBeUndefined();
    expect(matchSecret({}, sign('old'), sign)).toBeUndefined();
  });

  it('compares base64 signatures exactly', () => {
    const sign = (secret: string) => hmacSha256Base64(secret, body);
    expect(matchSecret({ current: 'k' }, sign('k'), sign, 'base64')).toBe('current');
    expect(matchSecret({ current: 'k' }, sign('k').toLowerCase(), sign, 'base64')).toBeUndefined();
  });

  it('accepts timestamps within the tolerance either way and says by how much others are off', () => {
    const now = new Date(1_761_634_496_000);
    expect(timestampOutsideTolerance(now.getTime() - 299_000, now, 300_000)).toBeUndefined();
    expect(timestampOutsideTolerance(now.getTime() + 299_000, now, 300_000)).toBeUndefined();
    expect(timestampOutsideTolerance(now.getTime() - 301_000, now, 300_000)).toBe(
      'is 301 s off our clock (tolerance 300 s)',
    );
    expect(timestampOutsideTolerance(Number.NaN, now, 300_000)).toBe('is not a timestamp');
  });
});
