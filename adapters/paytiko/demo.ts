import path from 'node:path';
import type { DemoEmulatorFactory } from '../kit/emulator/demo';
import { startPaytikoEmulator } from './emulator';

// Not secrets: credentials of an emulator that lives and dies with this process.
const MERCHANT = {
  userName: 'demo_paytiko_user',
  password: 'demo_paytiko_password',
  processorKey: '6f1c2a8e-4b7d-4c3e-9a51-2d8e7f0b3c64',
  secretKey: 'demo_paytiko_secret_key',
};

/**
 * The Paytiko emulator of the embedded default: one demo merchant, state in `<dataDir>/paytiko.json`. Webhooks go
 * where each Create Membership says (Paytiko has no per-merchant webhook URL); the binding's return page is the
 * emulator's own `/merchant/return`.
 */
export const paytikoDemo: DemoEmulatorFactory = {
  provider: 'paytiko',
  async start(options) {
    const emulator = await startPaytikoEmulator({
      mount: options.mount,
      stateFile: options.dataDir === undefined ? undefined : path.join(options.dataDir, 'paytiko.json'),
      merchants: [MERCHANT],
    });
    const secret = (name: string) => `${options.secretPrefix}PAYTIKO_${name}`;
    return {
      config: {
        base_url: emulator.url,
        processor_key: MERCHANT.processorKey,
        return_url: `${options.mount.baseUrl}/merchant/return`,
      },
      secretRefs: {
        username: `env:${secret('USERNAME')}`,
        password: `env:${secret('PASSWORD')}`,
        webhook_secret: `env:${secret('WEBHOOK_SECRET')}`,
      },
      secrets: {
        [secret('USERNAME')]: MERCHANT.userName,
        [secret('PASSWORD')]: MERCHANT.password,
        [secret('WEBHOOK_SECRET')]: MERCHANT.secretKey,
      },
      stop: () => emulator.stop(),
    };
  },
};
