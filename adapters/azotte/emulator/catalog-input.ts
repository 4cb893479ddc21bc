import { integer, oneOf, optionalString, requiredString } from '../../kit/emulator/body-readers';
import { invalidInput } from '../../kit/emulator/errors';
import type { Body } from '../../kit/emulator/http-io';
import { isoCurrencyDigits } from '../../kit/currencies';
import type { AzotteBundle, AzotteCampaign, AzotteStorefront } from './types';

// Readers for the catalog control (item 42): snake_case in, the emulator's records out.

/** The objects of an array field (absent → none); `field[i]` names a bad one. */
export function objects(body: Body, field: string): Body[] {
  const value = body[field];
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw invalidInput(field, 'must be an array');
  return value.map((item, i) => {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw invalidInput(`${field}[${i}]`, 'must be an object');
    return item as Body;
  });
}

function currency(body: Body, field: string): string {
  const code = requiredString(body, 'currency', 3, field);
  if (isoCurrencyDigits(code) === undefined) throw invalidInput(field, `'${code}' is not an ISO 4217 currency`);
  return code;
}

export function storefrontInput(body: Body, at: string): AzotteStorefront {
  return {
    storefrontUrn: requiredString(body, 'storefront_urn', 128, `${at}.storefront_urn`),
    currency: currency(body, `${at}.currency`),
  };
}

export function bundleInput(body: Body, at: string): AzotteBundle {
  const period = (typeof body.period === 'object' && body.period !== null ? body.period : {}) as Body;
  const features = body.entitlements ?? [];
  if (!Array.isArray(features) || features.some((f) => typeof f !== 'string' || f === '')) {
    throw invalidInput(`${at}.entitlements`, 'must be an array of feature keys');
  }
  return {
    storefrontUrn: requiredString(body, 'storefront_urn', 128, `${at}.storefront_urn`),
    bundleUrn: requiredString(body, 'bundle_urn', 128, `${at}.bundle_urn`),
    sku: optionalString(body, 'sku', 128, `${at}.sku`) ?? requiredString(body, 'bundle_urn', 128),
    name: optionalString(body, 'name', 200, `${at}.name`) ?? requiredString(body, 'bundle_urn', 128),
    amountMilpieces: BigInt(integer(body.amount_milpieces, `${at}.amount_milpieces`, 0)),
    currency: currency(body, `${at}.currency`),
    period: {
      unit: oneOf(period, 'unit', ['Day', 'Week', 'Month', 'Year'] as const, 'Month'),
      count: integer(period.count ?? 1, `${at}.period.count`, 1, 36),
    },
    trialDays: integer(body.trial_days ?? 0, `${at}.trial_days`, 0, 365),
    entitlements: features as string[],
  };
}

export function campaignInput(body: Body, at: string): AzotteCampaign {
  const percent = body.percent_off_basis_points;
  const amount = body.amount_off_milpieces;
  if ((percent === undefined) === (amount === undefined)) {
    throw invalidInput(at, 'needs exactly one of percent_off_basis_points and amount_off_milpieces');
  }
  return {
    campaignCode: requiredString(body, 'campaign_code', 64, `${at}.campaign_code`),
    promotionCode: optionalString(body, 'promotion_code', 64, `${at}.promotion_code`) ?? null,
    description: optionalString(body, 'description', 500, `${at}.description`) ?? '',
    ...(percent !== undefined
      ? { percentOffBasisPoints: integer(percent, `${at}.percent_off_basis_points`, 1, 10_000) }
      : { amountOffMilpieces: BigInt(integer(amount, `${at}.amount_off_milpieces`, 1)) }),
    cycles: integer(body.cycles ?? 1, `${at}.cycles`, 1, 1000),
  };
}
