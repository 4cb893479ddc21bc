import type { Knex } from 'knex';

/** pg returns int8 as strings and bytea as Buffer; PGlite returns numbers/bigints and Uint8Array. One reading. */
export function asBigInt(value: unknown): bigint {
  return typeof value === 'bigint' ? value : BigInt(value as string | number);
}

export function asNumber(value: unknown): number {
  return Number(value);
}

export function asBytes(value: unknown): Uint8Array {
  return value instanceof Uint8Array ? value : Buffer.from(value as string);
}

export function asOptionalDate(value: unknown): Date | undefined {
  return value ? new Date(value as string) : undefined;
}

/** jsonb columns: parsed by both drivers, but tolerate a string for safety. */
export function asJson<T>(value: unknown): T {
  return (typeof value === 'string' ? JSON.parse(value) : value) as T;
}

/** `count(*)` of a query's rows, whichever driver (pg answers a string, PGlite a number). */
export async function countOf(query: Knex.QueryBuilder): Promise<number> {
  const row = (await query.count('* as count').first()) as { count?: string | number } | undefined;
  return Number(row?.count ?? 0);
}
