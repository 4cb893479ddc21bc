import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { readProviderAnswer } from '../kit/answers';
import { PROVIDER } from './wire';

/**
 * Reads an Azotte answer with `read`: one we cannot read is UNAVAILABLE naming the storefront, the operation and
 * the field (README 12; the kit's readProviderAnswer), called an unreadable amount when the field is one.
 */
export function readAnswer<T>(ctx: ProviderCallContext, operation: string, read: () => T): T {
  const noun = (why: string) => (/amount|Milpieces/.test(why) ? 'amount' : 'answer');
  return readProviderAnswer({ provider: PROVIDER, name: 'Azotte' }, ctx, operation, noun, read);
}
