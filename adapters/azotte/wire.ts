import { failedPrecondition } from '../../src/domain/errors';
import type { ProviderCallContext } from '../../src/ports/provider-adapter.port';
import type { JsonObject } from '../kit/json';

// Azotte's C2A binding and wire names; bodies are read with the kit's JSON readers (`../kit/json`) directly.

/** Our provider id, as spans and the kit's errors name it. */
export const PROVIDER = 'azotte';

/** Every C2A path lives under this prefix of the base URL (README 1). */
export const API_PREFIX = '/api/v1/c2a';

/** A project name: one DNS label, so `{project}.azotte.com` cannot leave azotte.com. */
export const PROJECT_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/** A JSON object as Azotte sends it, before any field is trusted. */
export type WireObject = JsonObject;

/**
 * The binding's C2A base URL: `base_url`, else `https://{project}[.sandbox].azotte.com` (README: Binding). The core
 * holds `base_url` to Azotte's hosts; a project name is held to a DNS label here so it cannot leave azotte.com.
 */
export function baseUrlOf(ctx: ProviderCallContext): string {
  const { base_url: baseUrl, project, environment } = ctx.config;
  if (baseUrl) return baseUrl.replace(/\/+$/, '');
  if (project && PROJECT_LABEL.test(project)) {
    return `https://${project}${environment === 'production' ? '' : '.sandbox'}.azotte.com`;
  }
  throw failedPrecondition(
    `storefront '${ctx.storefrontId}': the Azotte binding has neither base_url nor a valid project (a DNS label)`,
  );
}

/** The binding's value for `key`, required by every call (README: Binding). */
export function requiredConfig(ctx: ProviderCallContext, key: 'tenant' | 'storefront_urn'): string {
  const value = ctx.config[key];
  if (!value) throw failedPrecondition(`storefront '${ctx.storefrontId}': the Azotte binding has no ${key}`);
  return value;
}
