import { decoded } from '../deferred-decoding';
import { checkOnly, Interceptor } from './interceptor';

/**
 * Decodes the request (see EncodedRequest). Placed after authentication and authorization: what a caller sends is
 * decoded only once the caller is known and allowed the RPC.
 */
export function decodeRequest(): Interceptor {
  return checkOnly((call) => {
    call.request = decoded(call.request, call.rpc);
  });
}
