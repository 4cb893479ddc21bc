import type { Caller } from '../app/call-context';
import { isRole, ROLES } from './roles';

/** One entry of the `API_KEYS_FILE`: who the key belongs to, and the hex SHA-256 of the key (never the key). */
export interface ApiKeyEntry extends Caller {
  keySha256: string;
}

/** The file's content is wrong; names the entry and the field. Never holds a key. */
export class ApiKeyFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ApiKeyFileError';
  }
}

const NAME = /^[\x21-\x7e]{1,128}$/;
const TENANT = /^[a-z0-9][a-z0-9_-]{0,63}$/;
const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Parses and validates the JSON array `[{"name","tenant","role","key_sha256"}]`; throws naming the bad entry. */
export function parseApiKeyFile(text: string): ApiKeyEntry[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new ApiKeyFileError(`not valid JSON (${(error as Error).message})`);
  }
  if (!Array.isArray(parsed)) throw new ApiKeyFileError('must be a JSON array of key entries');
  const entries = parsed.map((raw, index) => parseEntry(raw, index));
  const names = new Set<string>();
  const hashes = new Set<string>();
  entries.forEach((entry, index) => {
    if (names.has(entry.name)) throw new ApiKeyFileError(`entry ${index}: name '${entry.name}' is used twice`);
    if (hashes.has(entry.keySha256))
      throw new ApiKeyFileError(`entry ${index} (${entry.name}): key_sha256 is used twice`);
    names.add(entry.name);
    hashes.add(entry.keySha256);
  });
  return entries;
}

function parseEntry(raw: unknown, index: number): ApiKeyEntry {
  const at = (field: string, rule: string) => new ApiKeyFileError(`entry ${index}: ${field} ${rule}`);
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new ApiKeyFileError(`entry ${index}: must be an object`);
  }
  const entry = raw as Record<string, unknown>;
  const { name, tenant, role } = entry;
  const keySha256 = entry.key_sha256;
  if (typeof name !== 'string' || !NAME.test(name)) throw at('name', 'must be 1-128 printable ASCII characters');
  const label = (field: string, rule: string) => new ApiKeyFileError(`entry ${index} (${name}): ${field} ${rule}`);
  if (typeof tenant !== 'string' || !TENANT.test(tenant)) throw label('tenant', `must match ${TENANT.source}`);
  if (!isRole(role)) throw label('role', `must be one of ${ROLES.join(', ')}`);
  if (typeof keySha256 !== 'string' || !SHA256_HEX.test(keySha256)) {
    throw label('key_sha256', 'must be the hex SHA-256 of the key (64 lower-case hex digits)');
  }
  const unknown = Object.keys(entry).filter((k) => !['name', 'tenant', 'role', 'key_sha256'].includes(k));
  if (unknown.length > 0) throw label(unknown[0]!, 'is not a field of a key entry');
  return { name, tenant, role, keySha256 };
}
