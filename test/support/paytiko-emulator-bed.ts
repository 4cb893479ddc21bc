import http from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  type PaytikoEmulator,
  type PaytikoEmulatorMerchant,
  startPaytikoEmulator,
} from '../../adapters/paytiko/emulator';

/** One webhook delivery as the receiver got it. */
export interface PaytikoDelivery {
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown> & { Action: string; ActionId: string; OrderId: string; Signature: string };
}

/** A webhook endpoint recording every delivery and answering `respond(n)` (default 200) to the n-th (1-based). */
export interface WebhookReceiver {
  url: string;
  received: PaytikoDelivery[];
  respond: (delivery: number) => number;
  close(): Promise<void>;
}

export async function startWebhookReceiver(): Promise<WebhookReceiver> {
  const receiver: WebhookReceiver = { url: '', received: [], respond: () => 200, close: async () => undefined };
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as PaytikoDelivery['body'];
      receiver.received.push({ headers: req.headers, body });
      res.writeHead(receiver.respond(receiver.received.length)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/webhooks/paytiko`;
  receiver.close = () =>
    new Promise((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return receiver;
}

/** The parts of GET membership the tests read. */
export interface MembershipView {
  status: string;
  name: string;
  totalAmount: string;
  pricePerUnit: number | null;
  quantity: number | null;
  intervalType: string;
  intervalCount: number;
  startDate: string | null;
  currentPeriodStart: string | null;
  currentPeriodEnd: string | null;
  endDate: string | null;
  canceledAt: string | null;
  metadata: string | null;
  credits: string;
  pendingUpdate: null | Record<string, unknown>;
  invoices: {
    invoiceKey: string;
    type: string;
    status: string;
    amount: string;
    creditApplied: string;
    periodStart: string;
    periodEnd: string;
    cycle: number;
    transactions: {
      transactionId: number;
      transactionStatus: string;
      amount: string;
      declineReasonText: string | null;
    }[];
  }[];
}

export const TEST_MERCHANT: PaytikoEmulatorMerchant = {
  userName: 'merchant-api-user',
  password: 'correct horse battery staple',
  processorKey: '3b241101-e2bb-4255-8caf-4136c566a962',
  secretKey: 'paytiko-secret-key',
};

/** An answer: status, content type and parsed JSON body. */
export interface Answer {
  status: number;
  contentType: string;
  body: Record<string, unknown>;
}

/** A started emulator with a receiver, a token and helpers that speak its wire contract over real HTTP. */
export class PaytikoBed {
  token = '';
  private constructor(
    readonly emulator: PaytikoEmulator,
    readonly receiver: WebhookReceiver,
    readonly merchant: PaytikoEmulatorMerchant,
  ) {}

  static async start(options: { stateFile?: string; merchant?: Partial<PaytikoEmulatorMerchant> } = {}) {
    const merchant = { ...TEST_MERCHANT, ...options.merchant };
    const receiver = await startWebhookReceiver();
    const emulator = await startPaytikoEmulator({ merchants: [merchant], stateFile: options.stateFile });
    const bed = new PaytikoBed(emulator, receiver, merchant);
    await bed.login();
    return bed;
  }

  async login(): Promise<string> {
    const answer = await this.call(
      'POST',
      '/auth',
      { userName: this.merchant.userName, password: this.merchant.password },
      null,
    );
    this.token = String(answer.body.token);
    return this.token;
  }

  /** An API call under /api/subscriptions/v1 with the bed's token (or `token`; null sends none). */
  async call(method: string, path: string, body?: unknown, token: string | null = this.token): Promise<Answer> {
    const headers: Record<string, string> = { 'Content-Type': 'application/json' };
    if (token !== null) headers.Authorization = `Bearer ${token}`;
    const res = await fetch(`${this.emulator.url}/api/subscriptions/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    return {
      status: res.status,
      contentType: res.headers.get('content-type') ?? '',
      body: text === '' ? {} : (JSON.parse(text) as Record<string, unknown>),
    };
  }

  /** A /__emulator control; throws on a non-2xx. */
  async control<T = Record<string, unknown>>(
    path: string,
    body?: unknown,
    method = body === undefined ? 'GET' : 'POST',
  ): Promise<T> {
    const res = await fetch(`${this.emulator.url}/__emulator${path}`, {
      method,
      headers: { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const parsed = (await res.json()) as unknown;
    if (!res.ok) throw new Error(`control ${path}: ${res.status} ${JSON.stringify(parsed)}`);
    return parsed as T;
  }

  async advance(seconds: number): Promise<void> {
    await this.control('/clock/advance', { seconds });
    await this.emulator.idle();
    // Tokens live 15 minutes on the emulator clock: a jump of days would leave the bed logged out.
    await this.login();
  }

  async now(): Promise<string> {
    return (await this.control<{ now: string }>('/clock')).now;
  }

  async customer(overrides: Record<string, unknown> = {}): Promise<string> {
    const answer = await this.call('POST', '/customer', customerBody(this.merchant.processorKey, overrides));
    if (answer.status !== 200) throw new Error(`create customer: ${JSON.stringify(answer.body)}`);
    return String(answer.body.customerKey);
  }

  async membership(customerKey: string, overrides: Record<string, unknown> = {}): Promise<string> {
    const answer = await this.call('POST', '/membership', membershipBody(customerKey, this.receiver.url, overrides));
    if (answer.status !== 200) throw new Error(`create membership: ${JSON.stringify(answer.body)}`);
    return String(answer.body.membershipKey);
  }

  /** Opens a checkout session and pays it through the emulator control (what the hosted page's button does). */
  async pay(customerKey: string, membershipKey: string, outcome: 'pay' | 'decline' = 'pay'): Promise<void> {
    const session = await this.call('POST', '/checkout/session', { customerKey, membershipKey });
    const token = String(session.body.checkoutRedirectUrl).split('/').pop();
    await this.control(`/checkout/${token}/${outcome}`, {});
    await this.emulator.idle();
  }

  async get(membershipKey: string): Promise<MembershipView> {
    return (await this.call('GET', `/membership/${membershipKey}`)).body as unknown as MembershipView;
  }

  /** Deliveries received for this membership, as [Action, Status or TransactionStatus]. */
  events(membershipKey: string): string[] {
    return this.receiver.received
      .filter((d) => (d.body.Membership as { Key: string }).Key === membershipKey)
      .map(
        (d) =>
          `${d.body.Action}:${String(d.body.TransactionStatus ?? (d.body.Membership as { Status: string }).Status)}`,
      );
  }

  async stop(): Promise<void> {
    await this.emulator.stop();
    await this.receiver.close();
  }
}

export function customerBody(processorKey: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    processorKey,
    firstName: 'Ada',
    lastName: 'Lovelace',
    email: `ada+${Math.random().toString(36).slice(2)}@example.com`,
    phone: '+447700900123',
    countryCode: 'gb',
    ...overrides,
  };
}

export function membershipBody(
  customerKey: string,
  webhookUrl: string,
  overrides: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    customerKey,
    subscriptionName: 'Basic monthly',
    webhookUrl,
    metadata: '{"subscription_id":"sub_1","plan_id":"plan_basic","change":"c1"}',
    productInfo: { orderId: `sub_${Math.random().toString(36).slice(2)}`, description: 'Basic plan' },
    pricingInfo: { currency: 'EUR', totalAmount: '19.98', pricePerUnit: 9.99, quantity: 2 },
    billingCycle: { intervalType: 'Monthly', intervalCount: 1 },
    ...overrides,
  };
}
