import { createHash } from 'node:crypto';
import { paytikoWebhooks } from '../../adapters/paytiko/webhooks';

const SECRET = 'whsec_current';
const PREVIOUS = 'whsec_previous';
const ACTION_ID = '6f1c2b0a-4d3e-4f5a-8b9c-0d1e2f3a4b5c';

const sign = (secret: string, orderId: string) => createHash('sha256').update(`${secret}:${orderId}`).digest('hex');

function webhook(body: Record<string, unknown> | string, headers: Record<string, string> = {}) {
  return {
    headers,
    body: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
    remoteAddress: '127.0.0.1',
  };
}

function event(over: Record<string, unknown> = {}) {
  return {
    Action: 'SUBSCRIPTION_STATUS_CHANGED',
    ActionId: ACTION_ID,
    OrderId: 'sub_1',
    IssuedAt: '2025-02-28T10:00:00Z',
    Membership: { Id: 1, Key: 'mmbrshp_x', CustomerKey: 'cstmr_y', Status: 'Active', Metadata: '', Updates: null },
    ...over,
  };
}

const keys = (current = SECRET, previous?: string) => ({ secrets: { current, previous }, config: {} });
const now = new Date('2025-02-28T10:00:00Z');

describe('Paytiko webhook signature', () => {
  it('accepts sha256(secret:OrderId) in the Signature header or in the body field', () => {
    const signature = sign(SECRET, 'sub_1');
    expect(paytikoWebhooks.verify(webhook(event(), { signature }), keys(), now)).toEqual({ ok: true });
    expect(paytikoWebhooks.verify(webhook(event({ Signature: signature })), keys(), now)).toEqual({ ok: true });
    expect(paytikoWebhooks.verify(webhook(event(), { signature: signature.toUpperCase() }), keys(), now)).toEqual({
      ok: true,
    });
  });

  it('accepts the previous secret during a rotation, and refuses an unknown one', () => {
    const old = sign(PREVIOUS, 'sub_1');
    expect(paytikoWebhooks.verify(webhook(event(), { signature: old }), keys(SECRET, PREVIOUS), now)).toEqual({
      ok: true,
    });
    expect(paytikoWebhooks.verify(webhook(event(), { signature: old }), keys(SECRET), now)).toMatchObject({
      ok: false,
      reason: expect.stringContaining('does not match'),
    });
  });

  it('refuses a tampered OrderId, a missing signature or OrderId, and a body that is not JSON', () => {
    const signature = sign(SECRET, 'sub_1');
    expect(paytikoWebhooks.verify(webhook(event({ OrderId: 'sub_2' }), { signature }), keys(), now).ok).toBe(false);
    expect(paytikoWebhooks.verify(webhook(event()), keys(), now)).toEqual({
      ok: false,
      reason: 'no Signature header or body field',
    });
    expect(paytikoWebhooks.verify(webhook(event({ OrderId: undefined }), { signature }), keys(), now)).toEqual({
      ok: false,
      reason: 'body has no OrderId',
    });
    expect(paytikoWebhooks.verify(webhook('not json', { signature }), keys(), now)).toEqual({
      ok: false,
      reason: 'body is not JSON',
    });
    expect(paytikoWebhooks.verify(webhook(event(), { signature: 'zz' }), keys(), now)).toMatchObject({ ok: false });
  });

  it('refuses a body over 64 KiB unread (it would be parsed before any check), even with a good signature', () => {
    const signature = sign(SECRET, 'sub_1');
    const padded = event({ Padding: 'x'.repeat(64 * 1024) });
    expect(paytikoWebhooks.verify(webhook(padded, { signature }), keys(), now)).toEqual({
      ok: false,
      reason: 'body is larger than Paytiko sends (64 KiB)',
    });
    const fits = event({ Padding: 'x'.repeat(60 * 1024) });
    expect(paytikoWebhooks.verify(webhook(fits, { signature }), keys(), now)).toEqual({ ok: true });
  });
});

describe('Paytiko webhook envelope and events', () => {
  it('keys the event by ActionId and names a status change’s new status in its type', () => {
    expect(paytikoWebhooks.envelope(webhook(event()))).toEqual({
      providerEventId: ACTION_ID,
      eventType: 'SUBSCRIPTION_STATUS_CHANGED:Active',
    });
    expect(paytikoWebhooks.envelope(webhook(event({ Action: 'TRANSACTION' })))).toEqual({
      providerEventId: ACTION_ID,
      eventType: 'TRANSACTION',
    });
  });

  it('refuses an ActionId that is not a UUID', () => {
    expect(() => paytikoWebhooks.envelope(webhook(event({ ActionId: '42' })))).toThrow(
      expect.objectContaining({
        code: 'INVALID_ARGUMENT',
        violations: [{ field: 'ActionId', rule: 'must be a UUID' }],
      }),
    );
  });

  it.each(['TRANSACTION', 'SUBSCRIPTION_STATUS_CHANGED', 'SUBSCRIPTION_UPDATED'])(
    'turns %s into one notification for the signed OrderId, trusting nothing else',
    (Action) => {
      expect(paytikoWebhooks.parse(webhook(event({ Action })))).toEqual([
        {
          providerEventId: ACTION_ID,
          providerType: Action,
          occurredAt: new Date('2025-02-28T10:00:00Z'),
          kind: 'changed',
          object: 'subscription',
          ref: '',
          orderId: 'sub_1',
        },
      ]);
    },
  );

  it('ignores Actions it does not know', () => {
    expect(paytikoWebhooks.parse(webhook(event({ Action: 'SOMETHING_NEW' })))).toEqual([]);
  });
});
