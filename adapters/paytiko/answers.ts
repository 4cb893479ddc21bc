import { DomainError } from '../../src/domain/errors';
import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { ProviderUnavailable } from '../kit/errors';
import { PROVIDER } from './wire';

/**
 * Reads a Paytiko answer with `read` (mapping and wire readers, which throw INVALID_ARGUMENT naming Paytiko's field).
 * An answer we cannot read (unknown status, bad time, key or amount) is Paytiko's trouble, not the caller's: it
 * becomes UNAVAILABLE naming the storefront and the operation, so a caller or a sweep asks again later.
 */
export function readAnswer<T>(ctx: ProviderCallContext, operation: string, noun: string, read: () => T): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof DomainError) || error.code !== 'INVALID_ARGUMENT') throw error;
    const why =
      error.violations.length > 0
        ? error.violations.map((violation) => `${violation.field} ${violation.rule}`).join('; ')
        : error.message;
    throw new ProviderUnavailable(
      { provider: PROVIDER, operation },
      `storefront '${ctx.storefrontId}': Paytiko ${operation}: Paytiko answered an unreadable ${noun}: ${why}`,
      { cause: error },
    );
  }
}
