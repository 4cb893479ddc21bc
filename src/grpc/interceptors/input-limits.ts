import { invalidArgument } from '../../domain/errors';
import { findViolations } from '../input-limits/limits-walker';
import { loadRequestSchemas, MessageSchema } from '../input-limits/request-schema';
import { checkOnly, Interceptor } from './interceptor';

/**
 * Refuses any request outside the contract's input limits (lengths, characters, entry counts, ranges, enum values,
 * timestamps) with INVALID_ARGUMENT naming each field, before any I/O: nothing invalid reaches PostgreSQL, a
 * provider or Kafka. Runs before anything that reads the request, right after it is decoded.
 */
export function inputLimits(schemas: ReadonlyMap<string, MessageSchema> = loadRequestSchemas()): Interceptor {
  return checkOnly((call) => {
    const schema = schemas.get(call.path);
    // Every billing.v1 RPC has a schema (same proto files); an unknown path is refused, never waved through.
    if (!schema) throw invalidArgument([{ field: 'request', rule: `has no input limits for ${call.path}` }]);
    const violations = findViolations(call.request, schema);
    if (violations.length > 0) throw invalidArgument(violations);
  });
}
