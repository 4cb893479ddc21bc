import type { Logger } from 'pino';
import { Config, ConfigError } from '../config/config';
import { ApiKeyRing } from './api-key-ring';
import { Authenticator } from './authenticator';
import { JwksVerifier } from './jwks-verifier';

/** The service's authenticator, and the SIGHUP handler that re-reads the key file. */
export interface Authentication {
  authenticator: Authenticator;
  /** The tenants of the current API keys (none without keys); follows a SIGHUP reload. */
  keyTenants(): string[];
  /** Removes the SIGHUP handler. */
  stop(): void;
}

/** Builds the authenticator the configuration asks for; refuses to start on an unreadable or invalid key file. */
export function startAuthentication(config: Config, logger: Logger): Authentication {
  let keys: ApiKeyRing | undefined;
  if (config.apiKeysFile) {
    try {
      keys = ApiKeyRing.fromFile(config.apiKeysFile);
    } catch (error) {
      throw new ConfigError('API_KEYS_FILE', (error as Error).message);
    }
    logger.info({ keys: keys.size }, 'API keys loaded');
  } else if (config.demoAdminKey) {
    keys = ApiKeyRing.demo();
    logger.warn("no API_KEYS_FILE: accepting the documented demo key 'demo_admin_key' (admin of tenant 'demo')");
  }
  const { authJwksUrl: url, authJwtIssuer: issuer, authJwtAudience: audience } = config;
  // loadConfig requires issuer and audience with the URL; the check here keeps a hand-built Config honest too.
  if (url && !issuer) throw new ConfigError('AUTH_JWT_ISSUER', 'is required with AUTH_JWKS_URL');
  if (url && !audience) throw new ConfigError('AUTH_JWT_AUDIENCE', 'is required with AUTH_JWKS_URL');
  const jwt = url && issuer && audience ? new JwksVerifier({ url, issuer, audience }) : undefined;

  const file = config.apiKeysFile;
  const reload = () => {
    if (!keys || !file) return;
    try {
      logger.info({ keys: keys.reloadFrom(file) }, 'API keys reloaded');
    } catch (error) {
      logger.error({ reason: (error as Error).message }, 'API keys reload failed; keeping the previous keys');
    }
  };
  if (file) process.on('SIGHUP', reload);
  return {
    authenticator: new Authenticator(keys, jwt),
    keyTenants: () => keys?.tenants() ?? [],
    stop: () => void process.off('SIGHUP', reload),
  };
}
