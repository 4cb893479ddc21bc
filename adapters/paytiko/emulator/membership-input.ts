import { optionalString, requiredString } from '../../kit/emulator/body-readers';
import type { Body } from '../../kit/emulator/http-io';
import type { IntervalType } from './billing-dates';
import { isKnownCurrency, lineTotal, parseAmount, parseUnitPrice, type UnitPrice } from './money';
import { invalidField } from './problems';
import type { ScriptedCharge } from './records';
import { optionalInteger, optionalObject, timestamp } from './validation';

// Reading Create/Update Membership bodies (wire contract "Memberships").

const INTERVAL_TYPES: readonly IntervalType[] = ['Daily', 'Weekly', 'Monthly', 'Annually'];
/** The longest interval a count may make: a year, in each unit. */
const MAX_INTERVAL_COUNT: Record<IntervalType, number> = { Daily: 365, Weekly: 52, Monthly: 12, Annually: 3 };
const HOUR_MS = 3_600_000;
const DEFAULT_DECLINE = 'Insufficient funds.';
export const MAX_METADATA = 1000;

/** `intervalType` (exact case) and `intervalCount` (default 1, at most a unit's limit). */
export function billingCycle(
  body: Body,
  prefix: string,
  fallbackType?: IntervalType,
): { intervalType: IntervalType; intervalCount: number } {
  const raw = body.intervalType;
  let intervalType = fallbackType;
  if (raw !== undefined && raw !== null) {
    if (typeof raw !== 'string' || !(INTERVAL_TYPES as readonly string[]).includes(raw)) {
      throw invalidField(`${prefix}intervalType`, `must be one of ${INTERVAL_TYPES.join(', ')}`);
    }
    intervalType = raw as IntervalType;
  }
  if (intervalType === undefined)
    throw invalidField(`${prefix}intervalType`, `is required (one of ${INTERVAL_TYPES.join(', ')})`);
  const max = MAX_INTERVAL_COUNT[intervalType];
  const intervalCount = optionalInteger(body, 'intervalCount', `${prefix}intervalCount`, 1, max) ?? 1;
  return { intervalType, intervalCount };
}

/** An endDate at least 1 h after now, or undefined when absent/null. */
export function endDate(body: Body, now: number): number | undefined {
  if (body.endDate === undefined || body.endDate === null) return undefined;
  const value = timestamp(body.endDate, 'endDate');
  if (value < now + HOUR_MS) throw invalidField('endDate', 'must be at least 1 hour after the current UTC time');
  return value;
}

/** Free merchant metadata, at most 1000 characters. */
export function metadata(body: Body): string | undefined {
  const value = body.metadata;
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'string' || value.length > MAX_METADATA) {
    throw invalidField('metadata', `must be a string of at most ${MAX_METADATA} characters`);
  }
  return value;
}

/** The pricing block: currency, totalAmount > 0, and pricePerUnit × quantity = totalAmount when both are given. */
export function pricing(pricingInfo: Body): {
  currency: string;
  totalAmount: bigint;
  pricePerUnit: UnitPrice | null;
  quantity: number | null;
} {
  const currency = requiredString(pricingInfo, 'currency', 3, 'pricingInfo.currency').toUpperCase();
  if (!isKnownCurrency(currency)) throw invalidField('pricingInfo.currency', 'must be a known ISO 4217 currency code');
  if (pricingInfo.totalAmount === undefined || pricingInfo.totalAmount === null) {
    throw invalidField('pricingInfo.totalAmount', 'is required');
  }
  const totalAmount = parseAmount(pricingInfo.totalAmount, currency, 'pricingInfo.totalAmount');
  if (totalAmount <= 0n) throw invalidField('pricingInfo.totalAmount', 'must be greater than 0');
  const pricePerUnit =
    pricingInfo.pricePerUnit === undefined || pricingInfo.pricePerUnit === null
      ? null
      : parseUnitPrice(pricingInfo.pricePerUnit, 'pricingInfo.pricePerUnit');
  const quantity = optionalInteger(pricingInfo, 'quantity', 'pricingInfo.quantity', 1, 1_000_000) ?? null;
  if (pricePerUnit && quantity !== null && lineTotal(pricePerUnit, quantity, currency) !== totalAmount) {
    throw invalidField('pricingInfo.totalAmount', 'must equal pricePerUnit × quantity');
  }
  return { currency, totalAmount, pricePerUnit, quantity };
}

/** The scripted outcomes of recurring charges: absent, or a non-empty array of Success|Rejected (any case). */
export function chargeEmitterQueue(body: Body): ScriptedCharge[] {
  const value = body.chargeEmitterQueue;
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value) || value.length === 0 || value.length > 1000) {
    throw invalidField('chargeEmitterQueue', 'must be a non-empty array (at most 1000 items) when present');
  }
  return value.map((item: unknown, index) => {
    const field = `chargeEmitterQueue[${index}]`;
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw invalidField(field, 'must be an object');
    const status = (item as Body).transactionStatus;
    const normalized = typeof status === 'string' ? status.toLowerCase() : '';
    if (normalized !== 'success' && normalized !== 'rejected') {
      throw invalidField(`${field}.transactionStatus`, 'must be Success or Rejected');
    }
    const description = optionalString(item as Body, 'description', 500, `${field}.description`) ?? DEFAULT_DECLINE;
    return { transactionStatus: normalized === 'success' ? 'Success' : 'Rejected', description };
  });
}

/** A nested object that must be present. */
export function requiredObject(body: Body, field: string): Body {
  const value = optionalObject(body, field);
  if (!value) throw invalidField(field, 'is required');
  return value;
}
