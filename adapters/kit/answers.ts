import { DomainError } from '../../src/domain/errors';
import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { ProviderUnavailable } from './errors';

/** Who answered: the provider id the kit's errors carry, and the name our messages use. */
export interface AnswerSource {
  provider: string;
  name: string;
}

/**
 * Reads a provider's answer with `read` (the kit's JSON readers and an adapter's mapping throw INVALID_ARGUMENT
 * naming the provider's field). An answer we cannot read is the provider's trouble, not the caller's: UNAVAILABLE
 * naming the storefront, the operation and the field, so a caller or a sweep asks again later. `noun` names what
 * was unreadable, given the reason.
 */
export function readProviderAnswer<T>(
  source: AnswerSource,
  ctx: ProviderCallContext,
  operation: string,
  noun: (why: string) => string,
  read: () => T,
): T {
  try {
    return read();
  } catch (error) {
    if (!(error instanceof DomainError) || error.code !== 'INVALID_ARGUMENT') throw error;
    const why =
      error.violations.length > 0
        ? error.violations.map((violation) => `${violation.field} ${violation.rule}`).join('; ')
        : error.message;
    throw new ProviderUnavailable(
      { provider: source.provider, operation },
      `storefront '${ctx.storefrontId}': ${source.name} ${operation}: ${source.name} answered an unreadable ${noun(why)}: ${why}`,
      { cause: error },
    );
  }
}
