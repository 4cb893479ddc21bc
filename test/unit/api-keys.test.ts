import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseApiKeyFile } from '../../src/auth/api-key-file';
import { ApiKeyRing, DEMO_ADMIN_KEY, sha256Hex } from '../../src/auth/api-key-ring';

const entry = (overrides: Record<string, unknown> = {}) => ({
  name: 'checkout',
  tenant: 'acme',
  role: 'service',
  key_sha256: sha256Hex('secret-key-1'),
  ...overrides,
});

describe('the API_KEYS_FILE parser', () => {
  it('reads name, tenant, role and the key hash', () => {
    expect(parseApiKeyFile(JSON.stringify([entry()]))).toEqual([
      { name: 'checkout', tenant: 'acme', role: 'service', keySha256: sha256Hex('secret-key-1') },
    ]);
  });

  it.each([
    ['{"name":', /^not valid JSON/],
    ['{}', /must be a JSON array/],
    [JSON.stringify(['x']), /^entry 0: must be an object/],
    [JSON.stringify([entry({ name: '' })]), /^entry 0: name /],
    [JSON.stringify([entry(), entry({ name: 'b', tenant: 'Acme Inc' })]), /^entry 1 \(b\): tenant /],
    [JSON.stringify([entry({ role: 'root' })]), /^entry 0 \(checkout\): role must be one of service, platform, admin/],
    [JSON.stringify([entry({ key_sha256: 'secret-key-1' })]), /^entry 0 \(checkout\): key_sha256 /],
    [JSON.stringify([entry({ key: 'secret-key-1' })]), /^entry 0 \(checkout\): key is not a field/],
    [JSON.stringify([entry(), entry()]), /^entry 1: name 'checkout' is used twice/],
    [JSON.stringify([entry(), entry({ name: 'other' })]), /^entry 1 \(other\): key_sha256 is used twice/],
  ])('refuses %s, naming the entry and field', (text, message) => {
    expect(() => parseApiKeyFile(text)).toThrow(message);
  });

  it('never repeats a plaintext key put where the hash belongs', () => {
    expect(() => parseApiKeyFile(JSON.stringify([entry({ key_sha256: 'plaintext-secret' })]))).not.toThrow(
      /plaintext-secret/,
    );
  });
});

describe('the API key ring', () => {
  it('finds the caller of a presented key by its hash, and nobody for anything else', () => {
    const ring = new ApiKeyRing(parseApiKeyFile(JSON.stringify([entry()])));
    expect(ring.callerOf('secret-key-1')).toEqual({ name: 'checkout', tenant: 'acme', role: 'service' });
    expect(ring.callerOf('secret-key-2')).toBeUndefined();
    expect(ring.callerOf(sha256Hex('secret-key-1'))).toBeUndefined();
  });

  it('accepts only demo_admin_key in the embedded default', () => {
    expect(ApiKeyRing.demo().callerOf(DEMO_ADMIN_KEY)).toEqual({ name: 'demo-admin', tenant: 'demo', role: 'admin' });
    expect(ApiKeyRing.demo().size).toBe(1);
  });

  it('reloads from its file, and keeps the current keys when the new file is bad', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keys-')), 'keys.json');
    fs.writeFileSync(file, JSON.stringify([entry()]));
    const ring = ApiKeyRing.fromFile(file);
    fs.writeFileSync(file, JSON.stringify([entry({ name: 'new', key_sha256: sha256Hex('secret-key-2') })]));
    expect(ring.reloadFrom(file)).toBe(1);
    expect(ring.callerOf('secret-key-1')).toBeUndefined();
    expect(ring.callerOf('secret-key-2')?.name).toBe('new');
    fs.writeFileSync(file, '[');
    expect(() => ring.reloadFrom(file)).toThrow(/not valid JSON/);
    expect(() => ring.reloadFrom(`${file}.missing`)).toThrow(/cannot read .*ENOENT/);
    expect(ring.callerOf('secret-key-2')?.name).toBe('new');
  });
});
