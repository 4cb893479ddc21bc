import type { Authenticator } from '../../auth/authenticator';
import { unauthenticated } from '../../auth/auth-errors';
import { readActor } from '../call-metadata';
import type { Caller } from '../../app/call-context';
import type { Interceptor, RpcCall, RpcResult } from './interceptor';

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Every RPC needs `authorization: Bearer <key or token>`. The caller becomes the audit actor; an `x-actor` the
 * caller sends is kept beside it as "on behalf of", never instead of it.
 */
export function authenticate(authenticator: Authenticator): Interceptor {
  return (call, next) => {
    const header = call.metadata.get('authorization')[0];
    const credential = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    if (!credential) {
      return Promise.reject(unauthenticated("missing credentials: send metadata 'authorization: Bearer <key>'"));
    }
    // An API key is known at once, and goes on with no async layer of this interceptor's (see checkOnly).
    if (!authenticator.isToken(credential)) return admit(call, authenticator.keyCallerOf(credential), next);
    return authenticator.callerOf(credential).then((caller) => admit(call, caller, next));
  };
}

/** The call goes on as `caller`'s, or is refused when the credential named nobody. */
function admit(call: RpcCall, caller: Caller | undefined, next: () => Promise<RpcResult>): Promise<RpcResult> {
  if (!caller) return Promise.reject(unauthenticated('unknown API key or invalid token'));
  const onBehalfOf = readActor(call.metadata);
  call.ctx.caller = caller;
  call.ctx.actor = caller.name;
  call.ctx.onBehalfOf = onBehalfOf !== 'anonymous' ? onBehalfOf : undefined;
  return next();
}
