import { permissionDenied, unauthenticated } from '../../auth/auth-errors';
import { hasRole } from '../../auth/roles';
import { minimumRoleOf } from '../../auth/rpc-roles';
import { checkOnly, Interceptor } from './interceptor';

/** The caller's role must reach the RPC's least role (auth/rpc-roles.ts); below it is PERMISSION_DENIED. */
export function authorize(): Interceptor {
  return checkOnly((call) => {
    const caller = call.ctx.caller;
    if (!caller) throw unauthenticated("missing credentials: send metadata 'authorization: Bearer <key>'");
    const minimum = minimumRoleOf(call.path);
    if (!hasRole(caller.role, minimum)) {
      throw permissionDenied(`${call.rpc} needs role '${minimum}' or above; this caller is '${caller.role}'`);
    }
  });
}
