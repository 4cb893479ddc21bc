import type { Body } from '../../kit/emulator/http-io';
import { AzotteError, type FieldError } from './answers';

// Readers for C2A request bodies. A required object that is absent is BAD_REQUEST (item 12: an adapter bug); a
// field breaking its rule is collected as an INVALID_REQUEST error naming its camelCase path.

/** A nested object, or undefined when absent or null. */
export function optObject(body: Body, key: string): Body | undefined {
  const value = body[key];
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Body) : undefined;
}

/** A nested object the request cannot do without: absent → BAD_REQUEST. */
export function requiredObject(body: Body, key: string, operation: string): Body {
  const value = optObject(body, key);
  if (!value) throw new AzotteError('BAD_REQUEST', `${operation}: '${key}' is required`);
  return value;
}

/** Collects field errors; `done()` throws INVALID_REQUEST with all of them. */
export class Violations {
  readonly errors: FieldError[] = [];

  add(field: string, message: string): void {
    this.errors.push({ field, message });
  }

  /** A string field (absent/null → undefined); a non-string is an error. */
  str(body: Body, key: string, path: string): string | undefined {
    const value = body[key];
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.add(path, 'must be a string');
      return undefined;
    }
    return value;
  }

  /** A string field that must be present and 1–`max` long. */
  required(body: Body, key: string, path: string, max: number): string {
    const value = this.str(body, key, path);
    if (value === undefined || value === '') this.add(path, 'is required');
    else if (value.length > max) this.add(path, `must be at most ${max} characters`);
    return value ?? '';
  }

  done(): void {
    if (this.errors.length > 0) throw new AzotteError('INVALID_REQUEST', 'The request is invalid', this.errors);
  }
}
