import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { PendingWork } from '../../adapters/kit/emulator/pending-work';
import { listedRetries } from '../../adapters/kit/emulator/retry-schedules';
import { type WebhookEvent, WebhookSender } from '../../adapters/kit/emulator/webhook-sender';

/** A receiver that records bodies and headers and answers what `respond` says. */
async function receiver() {
  const got: { body: string; headers: http.IncomingHttpHeaders }[] = [];
  let respond = (_n: number) => 200;
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      got.push({ body: Buffer.concat(chunks).toString('utf8'), headers: req.headers });
      res.writeHead(respond(got.length)).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`,
    got,
    setRespond: (f: (n: number) => number) => (respond = f),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const until = async (condition: () => boolean) => {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
};

describe('emulator kit webhook sender', () => {
  let target: Awaited<ReturnType<typeof receiver>>;
  beforeEach(async () => (target = await receiver()));
  afterEach(() => target.close());

  function sender(options: { ordered: boolean; retries: number[] }) {
    const work = new PendingWork();
    const webhooks = new WebhookSender({
      endpoint: (destination) =>
        destination === 'nowhere'
          ? undefined
          : { url: target.url, headers: (event) => ({ 'X-Signed': `${destination}:${event.id}` }) },
      retrySchedule: listedRetries(options.retries),
      ordered: options.ordered,
      work,
    });
    const publish = (id: string, destination = 'm1', orderingKey?: string) =>
      webhooks.publish({
        id,
        type: 't',
        destination,
        orderingKey,
        created: '2030-01-01T00:00:00Z',
        body: `{"id":"${id}"}`,
      });
    return { webhooks, work, publish };
  }

  it('delivers in publish order per key, with the signing hook’s headers on every attempt', async () => {
    const { webhooks, work, publish } = sender({ ordered: true, retries: [] });
    for (const id of ['1', '2', '3']) publish(id);
    publish('x', 'nowhere');
    await work.idle();
    expect(target.got.map((g) => g.body)).toEqual(['{"id":"1"}', '{"id":"2"}', '{"id":"3"}']);
    expect(target.got.map((g) => g.headers['x-signed'])).toEqual(['m1:1', 'm1:2', 'm1:3']);
    // An event for a destination without an endpoint is recorded, never sent.
    expect(webhooks.list().map((e) => [e.event_id, e.delivered])).toEqual([
      ['1', true],
      ['2', true],
      ['3', true],
      ['x', false],
    ]);
    webhooks.stop();
  });

  it('retries a refused event on its schedule, then gives up, without holding later events', async () => {
    target.setRespond((n) => (n === 1 || n === 3 ? 500 : 200));
    const { webhooks, publish } = sender({ ordered: true, retries: [20] });
    publish('a');
    publish('b');
    await until(() => target.got.length >= 3);
    expect(target.got.map((g) => g.body)).toEqual(['{"id":"a"}', '{"id":"b"}', '{"id":"a"}']);
    await until(() => (webhooks.detail('a')?.attempt_log as unknown[]).length === 2);
    // The one retry was refused too: the schedule has no second retry, so it stays undelivered.
    expect(webhooks.detail('a')).toMatchObject({ delivered: false, attempts: 2, last_status: 500 });
    webhooks.stop();
  });

  it('takes back a saved log: never-tried events are sent, delivered ones are not', async () => {
    const saved: WebhookEvent[] = [
      {
        id: 'old',
        type: 't',
        destination: 'm1',
        orderingKey: 'm1',
        created: '',
        body: '{"id":"old"}',
        attempts: [{ at: '', kind: 'first', status: 200 }],
        delivered: true,
        retries: 0,
      },
      {
        id: 'new',
        type: 't',
        destination: 'm1',
        orderingKey: 'm1',
        created: '',
        body: '{"id":"new"}',
        attempts: [],
        delivered: false,
        retries: 0,
      },
    ];
    const { webhooks, work } = sender({ ordered: false, retries: [] });
    webhooks.restore(saved);
    await work.idle();
    expect(target.got.map((g) => g.body)).toEqual(['{"id":"new"}']);
    expect(webhooks.snapshot().map((e) => [e.id, e.delivered])).toEqual([
      ['old', true],
      ['new', true],
    ]);
    webhooks.stop();
  });
});
