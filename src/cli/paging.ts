import type { Flags } from './args';
import type { Output } from './output';

/** How a list command pages: `--page-size N`, `--page-token T`, or `--all` to follow the tokens to the end. */
export interface Paging {
  /** 0 lets the service choose. */
  pageSize: number;
  pageToken: string;
  all: boolean;
}

/** One page as every List RPC answers it, the items taken out of the response. */
export interface Page<T> {
  items: T[];
  nextPageToken: string;
}

/** `--all` stops here: a runaway listing (or a service that keeps answering tokens) must not run forever. */
export const MAX_PAGES = 100;

export function readPaging(flags: Flags): Paging {
  return {
    pageSize: flags.integer('page-size', 1) ?? 0,
    pageToken: flags.optional('page-token') ?? '',
    all: flags.switch('all'),
  };
}

/**
 * The page asked for, or with `--all` every page from there on, concatenated. What is left after MAX_PAGES is
 * reported on stderr and kept as the result's next page token, so the user can go on from there.
 */
export async function fetchPages<T>(
  paging: Paging,
  out: Output,
  fetchPage: (pageSize: number, pageToken: string) => Promise<Page<T>>,
): Promise<Page<T>> {
  let page = await fetchPage(paging.pageSize, paging.pageToken);
  if (!paging.all) return page;
  const items = [...page.items];
  for (let fetched = 1; page.nextPageToken !== ''; fetched++) {
    if (fetched === MAX_PAGES) {
      out.note(`stopped after ${MAX_PAGES} pages; the rest: --page-token ${page.nextPageToken}`);
      break;
    }
    page = await fetchPage(paging.pageSize, page.nextPageToken);
    items.push(...page.items);
  }
  return { items, nextPageToken: page.nextPageToken };
}

/** The last line of a list for people: how to ask for the next page, when there is one. */
export function printNextPage(out: Output, nextPageToken: string): void {
  if (nextPageToken !== '') out.line(`next page: --page-token ${nextPageToken}`);
}
