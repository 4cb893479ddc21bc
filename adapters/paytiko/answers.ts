import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';
import { readProviderAnswer } from '../kit/answers';
import { PROVIDER } from './wire';

/**
 * Reads a Paytiko answer with `read` (mapping and wire readers). One we cannot read (unknown status, bad time, key or
 * amount) is UNAVAILABLE naming the storefront, the operation and the `noun` (the kit's readProviderAnswer).
 */
export function readAnswer<T>(ctx: ProviderCallContext, operation: string, noun: string, read: () => T): T {
  return readProviderAnswer({ provider: PROVIDER, name: 'Paytiko' }, ctx, operation, () => noun, read);
}
