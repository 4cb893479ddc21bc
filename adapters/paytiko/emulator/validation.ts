import { optionalString, requiredString } from '../../kit/emulator/body-readers';
import type { Body } from '../../kit/emulator/http-io';
import { isCountry } from '../../kit/countries';
import { invalidField } from './problems';

// Field rules of the wire contract. Every failure is a 400 naming the camelCase path of the field.

const NAME = /^\p{L}+(?:[ -]\p{L}+)*$/u;
const EMAIL = /^[^\s@]+@[^\s@.]+(?:\.[^\s@.]+)*\.[^\s@.]{2,}$/;
const PHONE = /^\+[1-9]\d{7,14}$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const NIL_UUID = '00000000-0000-0000-0000-000000000000';
const LOOPBACK_HOSTS = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;
const TIMESTAMP = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,3})?Z?$/;

/** A person's name: letters, single spaces or hyphens between them, at most 100 characters. */
export function personName(body: Body, field: string): string {
  const value = requiredString(body, field, 100);
  if (!NAME.test(value)) throw invalidField(field, 'must be letters, with single spaces or hyphens between words');
  return value;
}

export function email(body: Body, field: string): string {
  const value = requiredString(body, field, 254);
  if (!EMAIL.test(value)) throw invalidField(field, 'must be an email address (name@domain.tld)');
  return value;
}

/** E.164: "+", a non-zero digit, 8 to 15 digits in all. */
export function phone(body: Body, field: string): string {
  const value = requiredString(body, field, 16);
  if (!PHONE.test(value)) throw invalidField(field, 'must be "+" and 8 to 15 digits, not starting with 0');
  return value;
}

/** ISO 3166-1 alpha-2, any case; answered upper case. */
export function countryCode(body: Body, field: string): string {
  const value = requiredString(body, field, 2).toUpperCase();
  if (!isCountry(value)) throw invalidField(field, 'must be a known ISO 3166-1 alpha-2 country code');
  return value;
}

/** A canonical (8-4-4-4-12 hex) UUID other than the nil UUID. */
export function uuid(body: Body, field: string): string {
  const value = requiredString(body, field, 36);
  if (!UUID.test(value) || value === NIL_UUID) throw invalidField(field, 'must be a canonical non-nil UUID');
  return value.toLowerCase();
}

/**
 * An absolute https:// URL, or http:// to a loopback host (what a sandbox accepts for a merchant on the same
 * machine).
 */
export function secureUrl(body: Body, field: string, required: boolean): string | undefined {
  const value = required ? requiredString(body, field, 2048) : optionalString(body, field, 2048);
  if (value === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw invalidField(field, 'must be an absolute URL');
  }
  const loopbackHttp = url.protocol === 'http:' && LOOPBACK_HOSTS.test(url.hostname);
  if (url.protocol !== 'https:' && !loopbackHttp) throw invalidField(field, 'must be an https:// URL');
  return value;
}

/** An ISO-8601 UTC timestamp (`YYYY-MM-DDTHH:mm:ss`, with or without `Z`), in epoch ms. */
export function timestamp(value: unknown, field: string): number {
  const match = typeof value === 'string' ? TIMESTAMP.exec(value) : null;
  if (!match) throw invalidField(field, 'must be an ISO-8601 UTC timestamp (YYYY-MM-DDTHH:mm:ssZ)');
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const ms = Date.UTC(year, month - 1, day, hour, minute, second);
  const back = new Date(ms);
  if (back.getUTCMonth() !== month - 1 || back.getUTCDate() !== day || hour > 23 || minute > 59 || second > 59) {
    throw invalidField(field, 'is not a real date and time');
  }
  return ms;
}

/** An object field (or undefined when absent/null). */
export function optionalObject(body: Body, field: string): Body | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) throw invalidField(field, 'must be an object');
  return value as Body;
}

/** An integer field between min and max (JSON number), or undefined when absent/null. */
export function optionalInteger(
  body: Body,
  field: string,
  label: string,
  min: number,
  max: number,
): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < min || value > max) {
    throw invalidField(label, `must be an integer between ${min} and ${max}`);
  }
  return value;
}
