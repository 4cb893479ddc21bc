import path from 'node:path';
import type { DemoEmulatorFactory } from '../kit/emulator/demo';
import { type EmulatorPrice, startSubotizEmulator } from './emulator';

// The demo storefront's plans (src/app/use-cases/demo-seed.ts) refer to these price ids, so a checkout from the
// embedded demo works against this emulator without further setup.
export const DEMO_PRICES: EmulatorPrice[] = [
  { priceId: 'demo_subotiz_basic', amount: '9.99', currency: 'EUR', interval: 'month', intervalCount: 1, trialDays: 0 },
  { priceId: 'demo_subotiz_pro', amount: '99.00', currency: 'EUR', interval: 'year', intervalCount: 1, trialDays: 14 },
];

// Not secrets: credentials of an emulator that lives and dies with this process.
const MERCHANT = {
  accessNo: 'demo_access_no',
  subMerchantId: 'demo',
  apiKey: 'sk_test_demo',
  accessSecret: 'demo_access_secret',
  webhookSecret: 'whsec_demo',
};

/**
 * The Subotiz emulator of the embedded default: the demo merchant and the demo prices (the binding carries the
 * default return and cancel pages), webhooks to `demo-subotiz`, state in `<dataDir>/subotiz.json`.
 */
export const subotizDemo: DemoEmulatorFactory = {
  provider: 'subotiz',
  async start(options) {
    const emulator = await startSubotizEmulator({
      mount: options.mount,
      stateFile: options.dataDir === undefined ? undefined : path.join(options.dataDir, 'subotiz.json'),
      merchants: [
        {
          ...MERCHANT,
          webhookUrl: `${options.webhookBaseUrl}/webhooks/subotiz/demo-subotiz`,
        },
      ],
      prices: DEMO_PRICES,
    });
    const secret = (name: string) => `${options.secretPrefix}SUBOTIZ_${name}`;
    return {
      config: {
        base_url: emulator.url,
        auth_mode: 'bearer',
        sub_merchant_id: MERCHANT.subMerchantId,
        // The demo's own return and cancel pages, sent on every Checkout Session that names none.
        return_url: `${options.mount.baseUrl}/merchant/return`,
        cancel_url: `${options.mount.baseUrl}/merchant/cancel`,
      },
      secretRefs: {
        api_key: `env:${secret('API_KEY')}`,
        access_no: `env:${secret('ACCESS_NO')}`,
        webhook_secret: `env:${secret('WEBHOOK_SECRET')}`,
      },
      secrets: {
        [secret('API_KEY')]: MERCHANT.apiKey,
        [secret('ACCESS_NO')]: MERCHANT.accessNo,
        [secret('WEBHOOK_SECRET')]: MERCHANT.webhookSecret,
      },
      stop: () => emulator.stop(),
    };
  },
};
