import {
  asObject,
  bool,
  JsonObject,
  optBigInt,
  optEpochSeconds,
  optInt,
  optIsoDate,
  optStr,
  parseJson,
  str,
} from '../kit/json';
import { providerText } from '../kit/provider-text';

// Subotiz's wire shapes read with the kit's JSON readers; the names here are the ones mapping.ts and operations.ts use.

/** A JSON object as Subotiz sends it, before any field is trusted. */
export type WireObject = JsonObject;

/** Subotiz ids are int64 and sometimes arrive as JSON numbers (`"id": 572677246926464036`): kept exact. */
export const parseSubotizJson = (text: string): unknown => parseJson(text);

export { asObject };
export const optionalString = optStr;
export const requiredString = str;
export const optionalInt = optInt;
/** For counters that may exceed 2^53 (usage quantities). */
export const optionalBigInt = optBigInt;
/** Absent = false (`is_canceling`). */
export const flag = bool;
/** Subotiz times are RFC 3339 UTC (`2025-10-28T06:54:56Z`). */
export const optionalTime = optIsoDate;
/** Usage timestamps are Unix seconds. */
export const optionalUnixSeconds = optEpochSeconds;

/** `{code, message}` (last_payment_error, failure_reason), or undefined when null. */
export function optionalFailure(
  obj: WireObject,
  key: string,
  prefix: string,
): { code: string; message: string } | undefined {
  const value = obj[key];
  if (value === undefined || value === null || value === '') return undefined;
  const failure = asObject(value, `${prefix}.${key}`);
  return {
    code: providerText(optStr(failure, 'code', `${prefix}.${key}`) ?? '', 100),
    message: providerText(optStr(failure, 'message', `${prefix}.${key}`) ?? ''),
  };
}
