import { type BillingClient, createBillingClient } from '../../packages/client/src';

/** Where the CLI talks to, from the environment (the API key is read only here and only ever sent). */
export interface Endpoint {
  address: string;
  apiKey: string;
  emulatorUrl: string;
  /** How long one emulator call may take before the CLI gives up on it (an emulator that never answers). */
  emulatorTimeoutMs: number;
}

export function endpointFromEnv(env: NodeJS.ProcessEnv): Endpoint {
  return {
    address: env.BILLING_ADDRESS || '127.0.0.1:50051',
    apiKey: env.BILLING_API_KEY ?? '',
    emulatorUrl: (env.BILLING_EMULATOR_URL || 'http://127.0.0.1:8091').replace(/\/$/, ''),
    emulatorTimeoutMs: milliseconds(env, 'BILLING_EMULATOR_TIMEOUT_MS', 15_000),
  };
}

function milliseconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const text = env[name];
  if (text === undefined || text === '') return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < 1) {
    throw new Error(`${name} must be a whole number of milliseconds of at least 1 (got '${text}')`);
  }
  return value;
}

/** One call takes at most this long, retries included; a CLI should fail rather than hang on an unreachable service. */
const DEADLINE_MS = 15_000;

/**
 * The package's client, opened on first use: commands that never call the service (`keys new`, `events tail`) open
 * no channel. Mutations get a fresh idempotency key from the package, so a command the user re-runs by hand is a new
 * request while the package's own retries of it are not applied twice.
 */
export class CliClient {
  private opened?: BillingClient;

  constructor(readonly endpoint: Endpoint) {}

  get api(): BillingClient {
    this.opened ??= createBillingClient({
      address: this.endpoint.address,
      apiKey: this.endpoint.apiKey || undefined,
      deadlineMs: DEADLINE_MS,
    });
    return this.opened;
  }

  close(): void {
    this.opened?.close();
    this.opened = undefined;
  }
}
