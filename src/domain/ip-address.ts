/** An IP address as a number: 32 bits for IPv4, 128 for IPv6. IPv4-mapped IPv6 (`::ffff:1.2.3.4`) is IPv4. */
export interface IpAddress {
  version: 4 | 6;
  value: bigint;
}

const IPV4_MAPPED_PREFIX = 0xffffn << 32n;
const IPV4_PART = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * Parses a textual IPv4 or IPv6 address; undefined when it is not one. Strict on purpose: no leading zeros in IPv4
 * parts (some parsers read them as octal), no zone ids, no ports.
 */
export function parseIp(text: string): IpAddress | undefined {
  if (text.length > 45) return undefined;
  if (!text.includes(':')) {
    const value = parseIpv4(text);
    return value === undefined ? undefined : { version: 4, value };
  }
  const value = parseIpv6(text);
  if (value === undefined) return undefined;
  // The same host whether the socket is dual-stack or not: one allowlist entry covers both spellings.
  if (value >> 32n === 0xffffn) return { version: 4, value: value - IPV4_MAPPED_PREFIX };
  return { version: 6, value };
}

function parseIpv4(text: string): bigint | undefined {
  const parts = text.split('.');
  if (parts.length !== 4 || !parts.every((p) => IPV4_PART.test(p))) return undefined;
  return parts.reduce((acc, p) => (acc << 8n) | BigInt(p), 0n);
}

function parseIpv6(text: string): bigint | undefined {
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groupsOf = (half: string): bigint[] | undefined => {
    if (half === '') return [];
    const groups: bigint[] = [];
    const parts = half.split(':');
    for (const [index, part] of parts.entries()) {
      if (index === parts.length - 1 && part.includes('.')) {
        // A dotted IPv4 tail fills the last two groups.
        const v4 = parseIpv4(part);
        if (v4 === undefined) return undefined;
        groups.push(v4 >> 16n, v4 & 0xffffn);
      } else if (HEX_GROUP.test(part)) groups.push(BigInt(`0x${part}`));
      else return undefined;
    }
    return groups;
  };
  const head = groupsOf(halves[0]!);
  const tail = halves.length === 2 ? groupsOf(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const groups = [...head, ...Array<bigint>(halves.length === 2 ? missing : 0).fill(0n), ...tail];
  return groups.reduce((acc, g) => (acc << 16n) | g, 0n);
}

/** The canonical text of an address: dotted IPv4, or RFC 5952 IPv6 (lower case, longest zero run as `::`). */
export function formatIp(address: IpAddress): string {
  if (address.version === 4) {
    return [24n, 16n, 8n, 0n].map((shift) => String((address.value >> shift) & 0xffn)).join('.');
  }
  const groups = Array.from({ length: 8 }, (_, i) => Number((address.value >> BigInt(112 - 16 * i)) & 0xffffn));
  let best = { start: -1, length: 0 };
  for (let i = 0; i < 8;) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > best.length && j - i >= 2) best = { start: i, length: j - i };
    i = j === i ? i + 1 : j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (best.start < 0) return hex.join(':');
  return `${hex.slice(0, best.start).join(':')}::${hex.slice(best.start + best.length).join(':')}`;
}

/** The canonical text of `text` as an address (e.g. `::ffff:10.0.0.1` → `10.0.0.1`), or undefined. */
export function normalizeIp(text: string): string | undefined {
  const address = parseIp(text);
  return address && formatIp(address);
}
