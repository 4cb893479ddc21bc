import { pageOf, readPage } from '../../src/app/pagination';

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
});
