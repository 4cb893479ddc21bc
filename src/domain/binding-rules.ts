import type { Violation } from './errors';

/** What a provider accepts in a storefront binding. */
export interface BindingSpec {
  /** Non-secret config keys and, where they have one, the values allowed. */
  config: Record<string, { values?: readonly string[]; url?: boolean }>;
  /** Secret names (values are references, checked by the core). */
  secrets: readonly string[];
}

/** Violations of a binding against a provider's spec: unknown keys, bad values, URLs that are not http(s). */
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
    } else if (rule.url && !/^https?:\/\/[^\s/]+/.test(value)) {
      violations.push({ field: `provider_config.${key}`, rule: 'must be an http(s) URL' });
    }
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
