import { pageOf, readPage } from '../../src/app/use-cases/pagination';

describe('cursor pagination', () => {
  it('round-trips the last position through an opaque token and stops on the last page', () => {
    const page = readPage(2, '');
    const first = pageOf(['a', 'b', 'c'], page, (x) => x);
    expect(first.items).toEqual(['a', 'b']);
    expect(readPage(2, first.nextPageToken)).toEqual({ size: 2, after: 'b' });
    expect(pageOf(['c'], page, (x) => x)).toEqual({ items: ['c'], nextPageToken: '' });
  });

  it('defaults the page size and refuses sizes and tokens it did not issue', () => {
    expect(readPage(0, '').size).toBe(50);
    expect(() => readPage(501, '')).toThrow('page_size');
    expect(() => readPage(-1, '')).toThrow('page_size');
    expect(() => readPage(10, 'bm90LW91cnM')).toThrow('page_token');
  });

  const token = (position: string) => Buffer.from(`p1:${position}`, 'utf8').toString('base64url');

  it.each([
    ['a forged position', token("cus_1' OR '1'='1"), 'id'],
    ['a NUL in the position', token('cus_1\u0000'), 'id'],
    ['an id where the list pages by sequence', token('cus_01'), 'sequence'],
    ['a sequence beyond 2^53', token('99999999999999999999'), 'sequence'],
    ['a token that is not base64url', '%%%', 'id'],
    ['a 1 MiB token', 'A'.repeat(1_048_576), 'id'],
    ['an empty position', token(''), 'id'],
  ] as const)('refuses %s as page_token', (_what, pageToken, kind) => {
    expect(() => readPage(10, pageToken, kind)).toThrow('page_token: is not a token this API issued');
  });

  it('reads back the positions it issued for both kinds of list', () => {
    expect(readPage(10, token('cus_01jabc'))).toEqual({ size: 10, after: 'cus_01jabc' });
    expect(readPage(10, token('eu-web'))).toEqual({ size: 10, after: 'eu-web' });
    expect(readPage(10, token('12345'), 'sequence')).toEqual({ size: 10, after: '12345' });
  });
});
