import { AmbiguousOutcome } from '../kit/errors';
import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';
import type { SubotizClient } from './client';
import { asObject, optionalInt, type WireObject } from './wire';
import { invalidArgument } from '../../src/domain/errors';

/**
 * A POST Subotiz might carry out twice (refunds, merchant-initiated trades) is sent once. When its outcome is unknown
 * (timeout after sending, 5xx, an unreadable 2xx) we ask Subotiz whether it happened (`find`): what it finds is the
 * answer; when it finds nothing the request did not take effect, and it is sent once more. A second unknown outcome
 * reaches the caller (UNAVAILABLE); its retry asks again the same way.
 */
export async function sendOnce<T>(send: () => Promise<T>, find: () => Promise<T | undefined>): Promise<T> {
  try {
    return await send();
  } catch (error) {
    if (!(error instanceof AmbiguousOutcome)) throw error;
    const found = await find();
    if (found !== undefined) return found;
    return send();
  }
}

/** How many list pages a lookup reads at most (100 objects each) before giving up as "not there". */
const MAX_PAGES = 50;
const PAGE_SIZE = 100;

/**
 * The first object of a paged Subotiz list (`{list, total}`) that `matches`, reading page after page. Every listed
 * object is checked by the caller's own predicate, so a filter the API ignored cannot hand us someone else's.
 */
export async function findInList(
  client: SubotizClient,
  ctx: ProviderCallContext,
  request: { operation: string; route: string; query: Record<string, string>; noun: string },
  matches: (item: WireObject) => boolean,
): Promise<WireObject | undefined> {
  for (let page = 1; page <= MAX_PAGES; page++) {
    const data = await client.call(ctx, {
      operation: request.operation,
      method: 'GET',
      route: request.route,
      query: { ...request.query, page, page_size: PAGE_SIZE },
    });
    const body = asObject(data, request.noun);
    const list = body.list ?? [];
    if (!Array.isArray(list)) throw invalidArgument([{ field: `${request.noun}.list`, rule: 'must be a list' }]);
    for (const item of list) {
      const obj = asObject(item, `${request.noun}.list[]`);
      if (matches(obj)) return obj;
    }
    const total = optionalInt(body, 'total', request.noun);
    if (list.length < PAGE_SIZE || (total !== undefined && page * PAGE_SIZE >= total)) return undefined;
  }
  return undefined;
}
