import { invalidArgument } from '../../src/domain/errors';
import { asObject, JsonObject, optInt, optObj, optStr, parseJson, str, int, arr } from '../kit/json';

// Paytiko's wire shapes read with the kit's JSON readers; the names here are the ones the other files use.

/** Our provider id, as spans and the kit's errors name it. */
export const PROVIDER = 'paytiko';

/** Every API path lives under this prefix of the binding's `base_url`. */
export const API_PREFIX = '/api/subscriptions/v1';

/** Key prefixes Paytiko gives its objects: a reference we send must carry its prefix (house assumptions: Keys). */
export const CUSTOMER_KEY_PREFIX = 'cstmr_';
export const MEMBERSHIP_KEY_PREFIX = 'mmbrshp_';

/** A JSON object as Paytiko sends it, before any field is trusted. */
export type WireObject = JsonObject;

/** Transaction ids are positive integers (JSON numbers); the kit keeps any beyond 2^53 exact. */
export const parsePaytikoJson = (text: string): unknown => parseJson(text);

export { asObject, arr, int };
export const optionalString = optStr;
export const requiredString = str;
export const optionalInt = optInt;
export const optionalObject = optObj;

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$/i;

/**
 * An ISO-8601 time. Paytiko writes UTC with `Z`, but the document's examples omit it: a time without an offset is
 * UTC too (house assumptions: Timestamps). Unset = undefined.
 */
export function optionalTime(o: WireObject, key: string, prefix: string): Date | undefined {
  const value = o[key];
  if (value === undefined || value === null || value === '') return undefined;
  if (typeof value === 'string') {
    const match = ISO_TIME.exec(value);
    if (match) {
      const time = new Date(match[1] ? value : `${value}Z`);
      if (!Number.isNaN(time.getTime())) return time;
    }
  }
  throw invalidArgument([{ field: `${prefix}.${key}`, rule: 'is not an ISO-8601 time' }]);
}
