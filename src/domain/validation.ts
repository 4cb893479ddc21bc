import { isCountry } from './countries';
import { isCurrency } from './currencies';
import { invalidArgument, Violation } from './errors';

// Deliberately simple: one @, no spaces, a dot in the domain. Deliverability is the provider's concern.
const EMAIL = /^[^\s@]+@[^\s@.]+(\.[^\s@.]+)+$/;
const E164 = /^\+[1-9]\d{6,14}$/;
// The contract's slug (ARCHITECTURE "Input limits"); the edge's input limits use the same shape.
const SLUG = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Collects violations so one error can name every bad field at once. */
export class Validator {
  private readonly violations: Violation[] = [];

  add(field: string, rule: string): this {
    this.violations.push({ field, rule });
    return this;
  }

  required(field: string, value: string | undefined): this {
    if (!value || !value.trim()) this.add(field, 'is required');
    return this;
  }

  maxLength(field: string, value: string | undefined, max: number): this {
    if (value && value.length > max) this.add(field, `must be at most ${max} characters`);
    return this;
  }

  email(field: string, value: string | undefined): this {
    if (!value) return this.add(field, 'is required');
    if (value.length > 254 || !EMAIL.test(value)) this.add(field, 'must be a valid email address');
    return this;
  }

  phone(field: string, value: string | undefined): this {
    if (value && !E164.test(value)) this.add(field, 'must be an E.164 phone number like +4915112345678');
    return this;
  }

  country(field: string, value: string | undefined, required = false): this {
    if (!value) return required ? this.add(field, 'is required') : this;
    if (!isCountry(value)) this.add(field, 'must be an ISO 3166-1 alpha-2 code like DE');
    return this;
  }

  currency(field: string, value: string | undefined): this {
    if (!value) return this.add(field, 'is required');
    if (!isCurrency(value)) this.add(field, 'must be an ISO 4217 currency code like EUR');
    return this;
  }

  slug(field: string, value: string | undefined): this {
    if (!value) return this.add(field, 'is required');
    if (!SLUG.test(value))
      this.add(field, "must be 1-64 lowercase letters, digits, '_' or '-', starting with a letter or digit");
    return this;
  }

  /** Throws INVALID_ARGUMENT with everything collected, if anything was. */
  check(): void {
    if (this.violations.length > 0) throw invalidArgument(this.violations);
  }
}
