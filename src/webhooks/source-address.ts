import { normalizeIp, parseIp } from '../domain/ip-address';
import { ipAllowed, IpRange } from '../domain/ip-allowlist';

/** What a sender whose address cannot be read is called; it is no address, so no allowlist matches it. */
export const UNKNOWN_SOURCE = 'unknown';

/**
 * The webhook sender's address: the TCP peer, unless the peer is one of our trusted proxies; then the right-most
 * `X-Forwarded-For` entry that is not a trusted proxy. Entries to the left of that one were written by whoever sent
 * the request and prove nothing, so they are never believed. All trusted → the left-most entry (the first hop).
 */
export function sourceAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trustedProxies: readonly IpRange[],
): string {
  const socket = peer === undefined ? undefined : normalizeIp(stripZone(peer));
  if (!socket) return UNKNOWN_SOURCE;
  if (!forwardedFor || !ipAllowed(socket, trustedProxies)) return socket;
  const hops = forwardedFor.split(',').map((hop) => hop.trim());
  let address = socket;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = readHop(hops[i]!);
    // A hop a trusted proxy wrote that we cannot read ends the chain: what is left of it is unknowable.
    if (!hop) return UNKNOWN_SOURCE;
    address = hop;
    if (!ipAllowed(hop, trustedProxies)) return hop;
  }
  return address;
}

/** One X-Forwarded-For entry: an address, possibly `[v6]`, `[v6]:port` or `v4:port` as some proxies write it. */
function readHop(text: string): string | undefined {
  const bracketed = /^\[([^\]]+)\](?::\d{1,5})?$/.exec(text);
  if (bracketed) return normalizeIp(bracketed[1]!);
  const v4WithPort = /^([\d.]+):\d{1,5}$/.exec(text);
  if (v4WithPort) return normalizeIp(v4WithPort[1]!);
  return parseIp(text) ? normalizeIp(text) : undefined;
}

/** Link-local peers may come as `fe80::1%eth0`; the zone says which interface, not who sent it. */
function stripZone(address: string): string {
  const percent = address.indexOf('%');
  return percent < 0 ? address : address.slice(0, percent);
}
