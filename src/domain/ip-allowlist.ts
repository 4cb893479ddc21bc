import { IpAddress, parseIp } from './ip-address';

/** A block of addresses: an address and how many leading bits must match (a lone address is /32 or /128). */
export interface IpRange {
  version: 4 | 6;
  network: bigint;
  prefix: number;
}

/** Entries beyond this are refused: an allowlist is a handful of sender ranges, not a database. */
export const MAX_ALLOWLIST_ENTRIES = 100;

/** Parses `address` or `address/prefix`; a string saying what is wrong when it is not one. */
export function parseCidr(text: string): IpRange | string {
  const [addressText, prefixText, extra] = text.split('/');
  if (extra !== undefined) return `'${quote(text)}' is not an address or CIDR`;
  const address = parseIp(addressText!);
  if (!address) return `'${quote(text)}' is not an IPv4 or IPv6 address or CIDR`;
  const bits = address.version === 4 ? 32 : 128;
  // `::ffff:10.0.0.0/104` names IPv4 addresses; parseIp already made the address IPv4, so the prefix follows.
  const mappedOffset = address.version === 4 && addressText!.includes(':') ? 96 : 0;
  let prefix = bits;
  if (prefixText !== undefined) {
    if (!/^\d{1,3}$/.test(prefixText)) return `'${quote(text)}' has a prefix length that is not a number`;
    prefix = Number(prefixText) - mappedOffset;
    if (prefix < 0 || prefix > bits) {
      return `'${quote(text)}' has a prefix length outside 0..${bits + mappedOffset}`;
    }
  }
  const mask = maskOf(address.version, prefix);
  // Host bits set usually means a typo (10.0.0.5/8 for 10.0.0.5/32); refusing beats silently widening the list.
  if ((address.value & ~mask & ((1n << BigInt(bits)) - 1n)) !== 0n) {
    return `'${quote(text)}' has host bits set after the /${prefixText} prefix`;
  }
  return { version: address.version, network: address.value, prefix };
}

/**
 * Parses a comma-separated allowlist of addresses and CIDRs; `{ error }` naming the first bad entry. An empty or
 * blank text is an empty list (the caller decides whether that means "no allowlist").
 */
export function parseAllowlist(text: string): { ranges: IpRange[] } | { error: string } {
  if (text.trim() === '') return { ranges: [] };
  const entries = text.split(',').map((entry) => entry.trim());
  if (entries.length > MAX_ALLOWLIST_ENTRIES) return { error: `must list at most ${MAX_ALLOWLIST_ENTRIES} entries` };
  const ranges: IpRange[] = [];
  for (const [index, entry] of entries.entries()) {
    if (entry === '') return { error: `entry ${index + 1} is empty; list addresses or CIDRs separated by commas` };
    const range = parseCidr(entry);
    if (typeof range === 'string') return { error: `${range}; list IPv4/IPv6 addresses or CIDRs separated by commas` };
    ranges.push(range);
  }
  return { ranges };
}

/** True when the address (text, any spelling) lies in one of the ranges; false for text that is no address. */
export function ipAllowed(address: string | IpAddress, ranges: readonly IpRange[]): boolean {
  const ip = typeof address === 'string' ? parseIp(address) : address;
  if (!ip) return false;
  return ranges.some(
    (range) => range.version === ip.version && (ip.value & maskOf(ip.version, range.prefix)) === range.network,
  );
}

function maskOf(version: 4 | 6, prefix: number): bigint {
  const bits = version === 4 ? 32 : 128;
  return ((1n << BigInt(prefix)) - 1n) << BigInt(bits - prefix);
}

/** Config text is the operator's, but it is echoed in errors: short and printable only. */
function quote(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?').slice(0, 64);
}
