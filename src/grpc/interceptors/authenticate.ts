import type { Authenticator } from '../../auth/authenticator';
import { unauthenticated } from '../../auth/auth-errors';
import { readActor } from '../call-metadata';
import type { Interceptor } from './interceptor';

const BEARER = /^Bearer +(\S+) *$/i;

/**
 * Every RPC needs `authorization: Bearer <key or token>`. The caller becomes the audit actor; an `x-actor` the
 * caller sends is kept beside it as "on behalf of", never instead of it.
 */
export function authenticate(authenticator: Authenticator): Interceptor {
  return async (call, next) => {
    const header = call.metadata.get('authorization')[0];
    const credential = typeof header === 'string' ? BEARER.exec(header)?.[1] : undefined;
    if (!credential) throw unauthenticated("missing credentials: send metadata 'authorization: Bearer <key>'");
    const caller = await authenticator.callerOf(credential);
    if (!caller) throw unauthenticated('unknown API key or invalid token');
    const onBehalfOf = readActor(call.metadata);
    call.ctx.caller = caller;
    call.ctx.actor = caller.name;
    call.ctx.onBehalfOf = onBehalfOf !== 'anonymous' ? onBehalfOf : undefined;
    return next();
  };
}
