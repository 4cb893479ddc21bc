import { MAX_PAGE_SIZE } from '../../app/use-cases/pagination';
import { MAX_AMOUNT_MINOR } from '../../domain/money';

/**
 * The input limits of the contract (ARCHITECTURE "Input limits"), declared once. The walker applies them to every
 * field of every request by field name and type, so a new RPC or field is covered without editing this file: an
 * unnamed string is free text, an unnamed `*_id` a short ASCII id, an unnamed integer a safe range. The use cases
 * keep their own, stricter business rules; these are the hard safety net that runs before any I/O.
 */

/** A rule for a non-empty string (empty is proto3's "not set"; whether it is required is the use case's call). */
export interface TextRule {
  max: number;
  /** Characters or shape; tested only after the length, so a 1 MiB value costs nothing. */
  pattern: RegExp;
  says: string;
}

/** An inclusive range for an integer field (int32 as number, int64 as bigint). */
export interface RangeRule {
  min: bigint;
  max: bigint;
}

/** Rules for the keys and values of a map field. */
export interface MapRule {
  key: TextRule;
  value: TextRule;
}

/** Repeated fields and maps hold at most this many entries. */
export const MAX_ENTRIES = 50;
/** Deeper nesting is refused rather than walked. */
export const MAX_DEPTH = 8;
/** Timestamps lie within years 1970–9999. */
export const TIME_RANGE = { min: Date.UTC(1970, 0, 1), max: Date.UTC(9999, 11, 31, 23, 59, 59, 999) } as const;

const text = (max: number, pattern: RegExp, says: string): TextRule => ({ max, pattern, says });

// No C0/C1 control characters anywhere, newline included: the contract says none, and a newline in a name or
// reason would split log lines and provider form fields.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const NO_CONTROL = /^[^\u0000-\u001f\u007f-\u009f]*$/;
const PRINTABLE = /^[\x20-\x7e]*$/;
const VISIBLE = /^[\x21-\x7e]*$/;
const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;

export const FREE_TEXT = text(1000, NO_CONTROL, 'must be at most 1000 characters without control characters');
export const SLUG_RULE = text(
  64,
  SLUG,
  "must be a slug: 1-64 of a-z, 0-9, '_' or '-', starting with a letter or digit",
);
const ID_TOKEN = text(64, SLUG, "must be an id: 1-64 of a-z, 0-9, '_' or '-'");
const REF = text(255, VISIBLE, 'must be 1-255 printable ASCII characters without spaces');
const CODE = text(16, VISIBLE, 'must be a short code of printable ASCII characters');
const URL_RULE = text(2048, VISIBLE, 'must be a URL of at most 2048 printable ASCII characters without spaces');
const MAP_KEY = text(64, /^[A-Za-z0-9][A-Za-z0-9_.-]*$/, "must be 1-64 of A-Z, a-z, 0-9, '_', '.' or '-'");
const CONFIG_VALUE = text(1000, PRINTABLE, 'must be at most 1000 printable ASCII characters');
const PAGE_TOKEN = text(512, /^[A-Za-z0-9_-]*$/, 'is not a token this API issued');

/** Our own ids: the prefix the field names, then the lower-case ULID (`cus_01j...`). */
const id = (prefix: string) =>
  text(64, new RegExp(`^${prefix}_[0-9a-z]{1,40}$`), `must be an id like ${prefix}_01j...`);

/** String fields by name (snake_case, as in the proto); maps' keys and values too. */
export const TEXT_RULES: Readonly<Record<string, TextRule>> = {
  storefront_id: SLUG_RULE,
  tenant_id: SLUG_RULE,
  customer_id: id('cus'),
  subscription_id: id('sub'),
  plan_id: id('plan'),
  payment_id: id('pay'),
  refund_id: id('ref'),
  invoice_id: id('inv'),
  dead_letter_id: id('dlq'),
  checkout_session_id: id('cs'),
  // Codes people type (SUMMER-25): upper case allowed, otherwise slug-like; providers accept no more.
  promotion_code: text(
    64,
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/,
    "must be a code: 1-64 of A-Z, a-z, 0-9, '_' or '-', starting with a letter or digit",
  ),
  // A provider's token for a stored card or wallet (never card data): short, printable, no spaces.
  payment_method_ref: text(
    255,
    VISIBLE,
    'must be a payment method reference: 1-255 printable ASCII characters without spaces',
  ),
  aggregate_id: ID_TOKEN,
  provider: text(64, SLUG, "must be a provider name: 1-64 of a-z, 0-9, '_' or '-'"),
  external_ref: REF,
  provider_ref: REF,
  reference: REF,
  email: text(254, NO_CONTROL, 'must be at most 254 characters without control characters'),
  phone: text(32, PRINTABLE, 'must be at most 32 printable ASCII characters'),
  country: CODE,
  default_currency: CODE,
  currency_code: CODE,
  amount_decimal: text(40, /^[0-9.+-]*$/, 'must be a decimal number like 9.99'),
  feature_key: text(100, VISIBLE, 'must be 1-100 printable ASCII characters without spaces'),
  feature_keys: text(100, VISIBLE, 'must be 1-100 printable ASCII characters without spaces'),
  types: text(100, /^[a-z0-9_.]*$/, "must be an event type like 'billing.customer.created'"),
  page_token: PAGE_TOKEN,
};

/** Fallbacks by name suffix, so a new `*_id` or `*_url` field is short ASCII without being listed. */
export const TEXT_SUFFIX_RULES: ReadonlyArray<readonly [suffix: string, rule: TextRule]> = [
  ['_id', ID_TOKEN],
  ['_ref', REF],
  ['_url', URL_RULE],
  ['_token', PAGE_TOKEN],
];

/** Map fields by name; any other map gets `DEFAULT_MAP`. */
export const MAP_RULES: Readonly<Record<string, MapRule>> = {
  provider_config: { key: MAP_KEY, value: CONFIG_VALUE },
  config: { key: MAP_KEY, value: CONFIG_VALUE },
  secret_refs: { key: MAP_KEY, value: REF },
  provider_refs: { key: MAP_KEY, value: REF },
};
export const DEFAULT_MAP: MapRule = { key: MAP_KEY, value: FREE_TEXT };

const range = (min: number | bigint, max: number | bigint): RangeRule => ({ min: BigInt(min), max: BigInt(max) });
const SAFE_INTEGER = range(-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);

/** Integer fields by name; any other int64 stays within ±(2^53-1) (exact in JS and PostgreSQL bigint alike). */
export const RANGE_RULES: Readonly<Record<string, RangeRule>> = {
  amount_minor: range(-MAX_AMOUNT_MINOR, MAX_AMOUNT_MINOR),
  quantity: range(0, 1_000_000_000),
  expected_version: range(0, Number.MAX_SAFE_INTEGER),
  page_size: range(0, MAX_PAGE_SIZE),
  trial_days: range(0, 100_000),
  count: range(0, 100_000),
};
export const DEFAULT_INT64 = SAFE_INTEGER;
export const DEFAULT_INT32 = range(-1_000_000_000, 1_000_000_000);

/** The text rule for a string field: by name, then by suffix, else free text. */
export function textRuleFor(name: string): TextRule {
  return TEXT_RULES[name] ?? TEXT_SUFFIX_RULES.find(([suffix]) => name.endsWith(suffix))?.[1] ?? FREE_TEXT;
}
