import path from 'node:path';
import type { DemoEmulatorFactory } from '../kit/emulator/demo';
import { startAzotteEmulator } from './emulator';

// Not secrets: credentials of an emulator that lives and dies with this process.
const TENANT = 'demo-tenant';
const API_KEY = 'demo_azotte_api_key';
const WEBHOOK_SECRET = 'demo_azotte_webhook_secret';
const STOREFRONT = 'st.00.001';

/**
 * The Azotte emulator of the embedded default: one tenant with test cards (pm.test.visa …), storefront st.00.001 in
 * EUR, the bundles of the demo plans (`demo_azotte_basic`, `demo_azotte_pro`, see demo-seed) and a WELCOME10
 * campaign; state in `<dataDir>/azotte.json`, webhooks to this service's ingress for the demo storefront.
 */
export const azotteDemo: DemoEmulatorFactory = {
  provider: 'azotte',
  async start(options) {
    const emulator = await startAzotteEmulator({
      mount: options.mount,
      stateFile: options.dataDir === undefined ? undefined : path.join(options.dataDir, 'azotte.json'),
      tenants: [
        {
          tenant: TENANT,
          apiKey: API_KEY,
          webhookUrl: `${options.webhookBaseUrl}/webhooks/azotte/demo-azotte`,
          webhookSecrets: [WEBHOOK_SECRET],
          testCards: true,
        },
      ],
      catalog: {
        storefronts: [{ storefrontUrn: STOREFRONT, currency: 'EUR' }],
        bundles: [
          {
            storefrontUrn: STOREFRONT,
            bundleUrn: 'demo_azotte_basic',
            sku: 'DEMO-BASIC-M',
            name: 'Basic monthly',
            amountMilpieces: 999n,
            currency: 'EUR',
            period: { unit: 'Month', count: 1 },
            trialDays: 0,
            entitlements: ['basic'],
          },
          {
            storefrontUrn: STOREFRONT,
            bundleUrn: 'demo_azotte_pro',
            sku: 'DEMO-PRO-Y',
            name: 'Pro yearly',
            amountMilpieces: 9900n,
            currency: 'EUR',
            period: { unit: 'Year', count: 1 },
            trialDays: 14,
            entitlements: ['basic', 'pro'],
          },
        ],
        campaigns: [
          {
            campaignCode: 'WELCOME',
            promotionCode: 'WELCOME10',
            description: '10 % off the first 3 cycles',
            percentOffBasisPoints: 1000,
            cycles: 3,
          },
        ],
      },
    });
    const secret = (name: string) => `${options.secretPrefix}AZOTTE_${name}`;
    return {
      config: {
        base_url: emulator.url,
        tenant: TENANT,
        storefront_urn: STOREFRONT,
        claimed_country: 'DE',
        claimed_language: 'de',
      },
      secretRefs: {
        api_key: `env:${secret('API_KEY')}`,
        webhook_secret: `env:${secret('WEBHOOK_SECRET')}`,
      },
      secrets: {
        [secret('API_KEY')]: API_KEY,
        [secret('WEBHOOK_SECRET')]: WEBHOOK_SECRET,
      },
      stop: () => emulator.stop(),
    };
  },
};
