import { envelopeRefusal, sourceRefusal } from '../../src/app/inbound/webhook-admission';
import type { BindingSpec } from '../../src/domain/binding-rules';

const spec: BindingSpec = {
  config: { allowed_webhook_ips: {} },
  secrets: [],
  hosts: [],
  webhookIpAllowlist: 'allowed_webhook_ips',
};

describe('webhook admission', () => {
  it.each([
    // [spec, config, sender, refused]
    [spec, {}, '198.51.100.1', false],
    [spec, { allowed_webhook_ips: '' }, '198.51.100.1', false],
    [{ ...spec, webhookIpAllowlist: undefined }, { allowed_webhook_ips: '10.0.0.1' }, '198.51.100.1', false],
    [undefined, { allowed_webhook_ips: '10.0.0.1' }, '198.51.100.1', false],
    [spec, { allowed_webhook_ips: '198.51.100.0/24' }, '198.51.100.1', false],
    [spec, { allowed_webhook_ips: '198.51.100.0/24' }, '198.51.101.1', true],
    [spec, { allowed_webhook_ips: '198.51.100.0/24' }, 'unknown', true],
    [spec, { allowed_webhook_ips: 'not-an-ip' }, '198.51.100.1', true],
  ])('spec %#: %p from %s refused: %s', (s, config, sender, refused) => {
    expect(sourceRefusal(s, config, sender) !== undefined).toBe(refused);
  });

  it('refuses a sender outside the list, and every sender when the stored list no longer parses, revealing neither', () => {
    expect(sourceRefusal(spec, { allowed_webhook_ips: '10.0.0.1' }, '10.0.0.2')).toBe(
      'source address 10.0.0.2 is not allowed for this storefront',
    );
    const broken = sourceRefusal(spec, { allowed_webhook_ips: '10.0.0.1/8' }, '10.0.0.1');
    expect(broken).toMatch(/allowlist cannot be read; it refuses every sender/);
    expect(broken).not.toContain('10.0.0.1/8');
  });

  it.each([
    [{}, undefined],
    [{ orderingKey: 'urn:customer:42', sequence: '18446744073709551616' }, undefined],
    [{ orderingKey: '' }, /ordering key/],
    [{ orderingKey: 'has space' }, /ordering key/],
    [{ orderingKey: 'k'.repeat(256) }, /ordering key/],
    [{ sequence: '-1' }, /sequence/],
    [{ sequence: '1.5' }, /sequence/],
    [{ sequence: '' }, /sequence/],
    [{ sequence: '9'.repeat(39) }, /sequence/],
  ])('envelope ordering %p → %p', (ordering, refusal) => {
    const answer = envelopeRefusal({ providerEventId: 'e1', eventType: 't', ...ordering });
    if (refusal) expect(answer).toMatch(refusal);
    else expect(answer).toBeUndefined();
  });

  it.each([
    [{ providerEventId: 'e'.repeat(255) }, undefined],
    [{ providerEventId: 'e'.repeat(256) }, /at most 255/],
    [{ eventType: 't'.repeat(3_000) }, /at most 255/],
    [{ providerEventId: 'evt_\ud800' }, /surrogate/],
    [{ providerEventId: 'evt_\u{1f600}' }, undefined],
  ])('envelope id and type %#', (envelope, refusal) => {
    const answer = envelopeRefusal({ providerEventId: 'e1', eventType: 't', ...envelope });
    if (refusal) expect(answer).toMatch(refusal);
    else expect(answer).toBeUndefined();
  });
});
