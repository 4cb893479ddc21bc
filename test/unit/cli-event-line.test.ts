import type { DecodedEvent } from '../../packages/client/src';
import { eventJson, eventLine } from '../../src/cli/event-line';
import { printFields, printTable, type Output } from '../../src/cli/output';
import { BillingEvent } from '../../src/gen/billing/v1/event';

/** C0, DEL and C1 controls: what a terminal would act on instead of showing. */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const HOSTILE = '\u001b]0;pwned\u0007\u001b[31mred\r\nforged line\u009b2J';

function customerEvent(text: string): DecodedEvent {
  const event = BillingEvent.fromPartial({
    type: `billing.customer.created${text}`,
    customer: { id: 'cus_1', email: `ada${text}@example.com` },
  });
  return {
    id: 'evt_1',
    type: event.type,
    source: '/storefronts/demo',
    subject: `cus_1${text}`,
    time: new Date('2026-01-02T03:04:05Z'),
    sequence: 7n,
    provider: 'emulated',
    tenant: 'acme',
    storefrontId: 'demo',
    contentType: 'application/protobuf',
    topic: 'billing.customer',
    partition: 0,
    offset: '12',
    key: 'cus_1',
    event,
  };
}

function captured(): Output & { lines: string[] } {
  const lines: string[] = [];
  return { json: false, lines, line: (text) => lines.push(text), note: () => undefined };
}

describe('text from Kafka and the service on a terminal', () => {
  it('prints an event for people on one line, without control characters', () => {
    const line = eventLine(customerEvent(HOSTILE));
    expect(line).not.toMatch(CONTROL);
    expect(line).toContain('billing.customer.created]0;pwned[31mredforged line2J');
    expect(line).toContain('cus_1]0;pwned');
    expect(line).toMatch(/email=ada\]0;pwned.*@example\.com$/);
  });

  it('keeps an ordinary event line as it was', () => {
    expect(eventLine(customerEvent(''))).toBe(
      `2026-01-02T03:04:05.000Z     7  ${'billing.customer.created'.padEnd(34)}  ${'cus_1'.padEnd(24)}  email=ada@example.com`,
    );
  });

  it('escapes every control character in --json lines and keeps the values', () => {
    const line = eventJson(customerEvent(HOSTILE));
    expect(line).not.toMatch(CONTROL);
    const parsed = JSON.parse(line) as { headers: { ce_subject: string }; event: { customer: { email: string } } };
    expect(parsed.headers.ce_subject).toBe(`cus_1${HOSTILE}`);
    expect(parsed.event.customer.email).toBe(`ada${HOSTILE}@example.com`);
  });

  it('strips control characters from fields and table cells too', () => {
    const out = captured();
    printFields(out, { name: `Ada${HOSTILE}` });
    printTable(out, ['ID', 'NAME'], [[`cus_1${HOSTILE}`, 'Ada']]);
    expect(out.lines).toHaveLength(3);
    for (const line of out.lines) expect(line).not.toMatch(CONTROL);
    expect(out.lines[0]).toBe('name: Ada]0;pwned[31mredforged line2J');
  });
});
