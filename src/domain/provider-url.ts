import { isIP } from 'node:net';

/** Which provider URLs a deployment accepts beyond the provider's documented hosts. */
export interface ProviderUrlPolicy {
  /** Extra hosts (exact, lower-case) a binding may point at: PROVIDER_HOST_ALLOWLIST. */
  allowlist: readonly string[];
  /** Plain http and loopback/private addresses (emulators): ALLOW_INSECURE_PROVIDER_URLS. */
  allowInsecure: boolean;
}

/**
 * The rule `raw` breaks as a provider base URL, or undefined when it is acceptable: https (http only when insecure
 * URLs are allowed), no credentials, no fragment, and a host that is documented for the provider (`hosts`, where
 * `*.example.com` covers its subdomains) or allowlisted. Loopback, private and link-local addresses are accepted only
 * when insecure URLs are allowed, whatever the lists say. The rule never quotes the URL (it may hold credentials).
 */
export function providerUrlViolation(
  raw: string,
  hosts: readonly string[],
  policy: ProviderUrlPolicy,
): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute https URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowInsecure)) {
    return policy.allowInsecure ? 'must be an http(s) URL' : 'must be an https URL';
  }
  if (url.username || url.password) return 'must not carry credentials (put them in secret_refs)';
  if (raw.includes('#')) return 'must not have a fragment';
  const host = hostOf(url);
  if (isLocalAddress(host)) {
    return policy.allowInsecure ? undefined : 'must not point at a loopback, private or link-local address';
  }
  if (policy.allowlist.includes(host) || hosts.some((pattern) => hostMatches(pattern, host))) return undefined;
  const documented = hosts.length ? hosts.join(', ') : 'none';
  return `must be on a documented host of this provider (${documented}) or in PROVIDER_HOST_ALLOWLIST`;
}

/** The URL's host, lower-case, without IPv6 brackets or a trailing dot. */
function hostOf(url: URL): string {
  return url.hostname
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '')
    .toLowerCase();
}

function hostMatches(pattern: string, host: string): boolean {
  const p = pattern.toLowerCase();
  if (p.startsWith('*.')) return host.endsWith(p.slice(1)) && host.length > p.length - 1;
  return host === p;
}

/** Loopback, private, link-local, CGNAT, unspecified and `localhost` names: never a provider on the internet. */
export function isLocalAddress(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const version = isIP(host);
  if (version === 4) return isLocalIpv4(host);
  if (version !== 6) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped) return isLocalIpv4(mapped[1]!);
  const v6 = host.toLowerCase();
  if (v6 === '::' || v6 === '::1') return true;
  // fc00::/7 unique local, fe80::/10 link-local; an IPv4-mapped address written in hex is local too.
  return /^f[cd][0-9a-f]{0,2}:/.test(v6) || /^fe[89ab][0-9a-f]?:/.test(v6) || v6.startsWith('::ffff:');
}

function isLocalIpv4(host: string): boolean {
  const [a, b] = host.split('.').map(Number) as [number, number];
  return (
    a === 0 ||
    a === 10 ||
    a === 127 ||
    (a === 100 && b >= 64 && b <= 127) ||
    (a === 169 && b === 254) ||
    (a === 172 && b >= 16 && b <= 31) ||
    (a === 192 && b === 168) ||
    a >= 224
  );
}
