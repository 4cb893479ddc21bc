import { tenantEnvPrefix } from '../src/domain/secret-reference';
import { startSubotizEmulator, SubotizEmulator } from './subotiz/emulator';
import { DEMO_PRICES } from './subotiz/emulator/main';

/** A provider emulator running in-process for the embedded default, and the binding that reaches it. */
export interface DemoProvider {
  provider: string;
  config: Record<string, string>;
  secretRefs: Record<string, string>;
}

export interface DemoEmulators {
  providers: DemoProvider[];
  /** Demo credentials by the env names the bindings reference; they exist only in this process. */
  secrets: Record<string, string>;
  stop(): Promise<void>;
}

/** The demo storefronts' tenant (`demo`, see demo-seed) may reference only its own env secrets, like any tenant. */
const DEMO_SECRET_PREFIX = tenantEnvPrefix('demo');

/** Where the README's walkthrough finds the Subotiz emulator. */
const SUBOTIZ_DEMO_PORT = 8091;

// Not secrets: credentials of an emulator that lives and dies with this process.
const SUBOTIZ = {
  accessNo: 'demo_access_no',
  subMerchantId: 'demo',
  apiKey: 'sk_test_demo',
  accessSecret: 'demo_access_secret',
  webhookSecret: 'whsec_demo',
};

/**
 * Starts the emulators `npm start` runs with no configuration, pointed at this service's webhook ingress, with
 * prices matching the demo plans (`demo_<provider>_basic`, `demo_<provider>_pro`).
 */
export async function startDemoEmulators(options: {
  host: string;
  /** Ports by provider id (`SUBOTIZ_EMULATOR_PORT`, …); a provider not named listens on its usual port. */
  ports: Record<string, number>;
  webhookBaseUrl: string;
}): Promise<DemoEmulators> {
  const subotiz: SubotizEmulator = await startSubotizEmulator({
    host: options.host,
    port: options.ports.subotiz ?? SUBOTIZ_DEMO_PORT,
    merchants: [{ ...SUBOTIZ, webhookUrl: `${options.webhookBaseUrl}/webhooks/subotiz/demo-subotiz` }],
    prices: DEMO_PRICES,
  });
  return {
    providers: [
      {
        provider: 'subotiz',
        config: { base_url: subotiz.url, auth_mode: 'bearer', sub_merchant_id: SUBOTIZ.subMerchantId },
        secretRefs: {
          api_key: `env:${DEMO_SECRET_PREFIX}SUBOTIZ_API_KEY`,
          access_no: `env:${DEMO_SECRET_PREFIX}SUBOTIZ_ACCESS_NO`,
          webhook_secret: `env:${DEMO_SECRET_PREFIX}SUBOTIZ_WEBHOOK_SECRET`,
        },
      },
    ],
    secrets: {
      [`${DEMO_SECRET_PREFIX}SUBOTIZ_API_KEY`]: SUBOTIZ.apiKey,
      [`${DEMO_SECRET_PREFIX}SUBOTIZ_ACCESS_NO`]: SUBOTIZ.accessNo,
      [`${DEMO_SECRET_PREFIX}SUBOTIZ_WEBHOOK_SECRET`]: SUBOTIZ.webhookSecret,
    },
    stop: () => subotiz.stop(),
  };
}
