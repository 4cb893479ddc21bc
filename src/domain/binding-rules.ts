import type { Violation } from './errors';
import { IpRange, parseAllowlist } from './ip-allowlist';
import { ProviderUrlPolicy, providerUrlViolation } from './provider-url';

/** What a provider accepts in a storefront binding. */
export interface BindingSpec {
  /** Non-secret config keys and, where they have one, the values allowed. */
  config: Record<string, BindingSetting>;
  /** Secret names (values are references, checked by the core). */
  secrets: readonly string[];
  /**
   * The provider's documented API hosts (`*.example.com` covers subdomains). A `url` setting must point at one of
   * them unless PROVIDER_HOST_ALLOWLIST names its host; the core checks that when the binding is written and again
   * before each call.
   */
  hosts: readonly string[];
  /**
   * The config key holding the storefront's webhook source-IP allowlist (comma-separated IPv4/IPv6 addresses or
   * CIDRs). Where set and non-empty, the core refuses webhooks from elsewhere (403) before checking signatures.
   */
  webhookIpAllowlist?: string;
}

/**
 * One setting's rule. `url`: a provider endpoint, held to the provider's documented hosts. `customerUrl`: one of OUR
 * customer-facing pages the provider sends the buyer back to (return/cancel): any host, but https (http only when
 * ALLOW_INSECURE_PROVIDER_URLS) and no credentials or fragment.
 */
export interface BindingSetting {
  values?: readonly string[];
  url?: boolean;
  customerUrl?: boolean;
  integer?: { min: number; max: number };
}

/** Violations of a binding against a provider's spec: unknown keys, bad values, unknown secrets (URLs: the core). */
export function checkBinding(
  spec: BindingSpec,
  config: Record<string, string>,
  secretRefs: Record<string, string>,
): Violation[] {
  const violations: Violation[] = [];
  const known = Object.keys(spec.config);
  for (const [key, value] of Object.entries(config)) {
    const rule = spec.config[key];
    if (!rule)
      violations.push({ field: `provider_config.${key}`, rule: `is not a setting; one of ${known.join(', ')}` });
    else if (rule.values && !rule.values.includes(value)) {
      violations.push({ field: `provider_config.${key}`, rule: `must be one of ${rule.values.join(', ')}` });
    } else if (rule.integer && !isIntegerIn(value, rule.integer)) {
      const { min, max } = rule.integer;
      violations.push({ field: `provider_config.${key}`, rule: `must be an integer from ${min} to ${max}` });
    }
  }
  const allowlist = spec.webhookIpAllowlist ? config[spec.webhookIpAllowlist] : undefined;
  if (allowlist !== undefined) {
    const parsed = parseAllowlist(allowlist);
    if ('error' in parsed) violations.push({ field: `provider_config.${spec.webhookIpAllowlist}`, rule: parsed.error });
  }
  for (const name of Object.keys(secretRefs)) {
    if (!spec.secrets.includes(name)) {
      violations.push({
        field: `secret_refs.${name}`,
        rule: `is not a secret of this provider; one of ${spec.secrets.join(', ')}`,
      });
    }
  }
  return violations;
}

/** Violations of the binding's URL settings against the provider's documented hosts and the deployment's policy. */
export function urlViolations(
  spec: BindingSpec,
  config: Record<string, string>,
  policy: ProviderUrlPolicy,
): Violation[] {
  const violations: Violation[] = [];
  for (const [key, rule] of Object.entries(spec.config)) {
    const value = config[key];
    if ((!rule.url && !rule.customerUrl) || value === undefined || value === '') continue;
    const broken = rule.url ? providerUrlViolation(value, spec.hosts, policy) : customerUrlViolation(value, policy);
    if (broken) violations.push({ field: `provider_config.${key}`, rule: broken });
  }
  return violations;
}

/** The rule a customer-facing URL breaks, or undefined; never quotes the URL. */
function customerUrlViolation(raw: string, policy: ProviderUrlPolicy): string | undefined {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'must be an absolute https URL';
  }
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && policy.allowInsecure)) {
    return policy.allowInsecure ? 'must be an http(s) URL' : 'must be an https URL';
  }
  if (url.username || url.password) return 'must not carry credentials';
  if (raw.includes('#')) return 'must not have a fragment';
  return undefined;
}

/** Decimal digits only (no sign, exponent or spaces), within the bounds. */
function isIntegerIn(value: string, bounds: { min: number; max: number }): boolean {
  if (!/^\d{1,15}$/.test(value)) return false;
  const n = Number(value);
  return n >= bounds.min && n <= bounds.max;
}

/**
 * The binding's webhook source-IP allowlist: undefined when the provider has none or the storefront left it empty
 * (any address may send), `{ error }` when a stored value no longer parses (the caller refuses: fail closed).
 */
export function webhookIpRanges(
  spec: BindingSpec | undefined,
  config: Record<string, string>,
): { ranges: IpRange[] } | { error: string } | undefined {
  const text = spec?.webhookIpAllowlist ? config[spec.webhookIpAllowlist] : undefined;
  if (text === undefined || text.trim() === '') return undefined;
  return parseAllowlist(text);
}
