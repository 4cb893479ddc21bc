import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pino from 'pino';
import { parseApiKeyFile } from '../../src/auth/api-key-file';
import { ApiKeyRing, DEMO_ADMIN_KEY, sha256Hex } from '../../src/auth/api-key-ring';
import { startAuthentication } from '../../src/auth/authentication';
import { loadConfig } from '../../src/config/config';

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
    ['broken JSON', '{"name":', /^not valid JSON/],
    ['an object', '{}', /must be a JSON array/],
    ['a string entry', JSON.stringify(['x']), /^entry 0: must be an object/],
    ['an empty name', JSON.stringify([entry({ name: '' })]), /^entry 0: name /],
    ['a bad tenant', JSON.stringify([entry(), entry({ name: 'b', tenant: 'Acme Inc' })]), /^entry 1 \(b\): tenant /],
    [
      'an unknown role',
      JSON.stringify([entry({ role: 'root' })]),
      /^entry 0 \(checkout\): role must be one of service, platform, admin/,
    ],
    [
      'a plaintext key as hash',
      JSON.stringify([entry({ key_sha256: 'secret-key-1' })]),
      /^entry 0 \(checkout\): key_sha256 /,
    ],
    [
      'a plaintext key field',
      JSON.stringify([entry({ key: 'secret-key-1' })]),
      /^entry 0 \(checkout\): key is not a field/,
    ],
    ['a name twice', JSON.stringify([entry(), entry()]), /^entry 1: name 'checkout' is used twice/],
    [
      'a hash twice',
      JSON.stringify([entry(), entry({ name: 'other' })]),
      /^entry 1 \(other\): key_sha256 is used twice/,
    ],
  ])('refuses %s, naming the entry and field', (_label, text, message) => {
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

  it('lists each tenant holding a key once (they count as known tenants for secret references)', () => {
    const ring = new ApiKeyRing(
      parseApiKeyFile(JSON.stringify([entry(), entry({ name: 'console', key_sha256: sha256Hex('secret-key-2') })])),
    );
    expect(ring.tenants()).toEqual(['acme']);
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

describe('authentication at start-up', () => {
  const silent = pino({ level: 'silent' });
  const config = (env: Record<string, string>) => loadConfig({ DEMO_SEED: 'false', ...env });

  it('refuses to start on a bad key file, naming API_KEYS_FILE and the entry', () => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keys-')), 'keys.json');
    fs.writeFileSync(file, JSON.stringify([entry({ role: 'superuser' })]));
    expect(() => startAuthentication(config({ API_KEYS_FILE: file }), silent)).toThrow(
      /^API_KEYS_FILE: entry 0 \(checkout\): role /,
    );
    expect(() => startAuthentication(config({ API_KEYS_FILE: `${file}.missing` }), silent)).toThrow(/^API_KEYS_FILE: /);
  });

  it('accepts demo_admin_key only on the embedded default, and warns that it does', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const auth = startAuthentication(config({}), logger);
    expect(await auth.authenticator.callerOf(DEMO_ADMIN_KEY)).toMatchObject({ role: 'admin', tenant: 'demo' });
    expect(lines.join('')).toMatch(/"level":40.*demo_admin_key/);
    auth.stop();

    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keys-')), 'keys.json');
    fs.writeFileSync(file, JSON.stringify([entry()]));
    const configured = startAuthentication(config({ API_KEYS_FILE: file }), silent);
    expect(await configured.authenticator.callerOf(DEMO_ADMIN_KEY)).toBeUndefined();
    configured.stop();
  });

  it('re-reads the file on SIGHUP; a bad file is logged as an error and the previous keys stay', async () => {
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'keys-')), 'keys.json');
    fs.writeFileSync(file, JSON.stringify([entry()]));
    const auth = startAuthentication(config({ API_KEYS_FILE: file }), logger);
    try {
      fs.writeFileSync(file, JSON.stringify([entry({ name: 'rotated', key_sha256: sha256Hex('secret-key-2') })]));
      process.emit('SIGHUP', 'SIGHUP');
      expect(await auth.authenticator.callerOf('secret-key-2')).toMatchObject({ name: 'rotated' });
      expect(await auth.authenticator.callerOf('secret-key-1')).toBeUndefined();

      fs.writeFileSync(file, JSON.stringify([entry({ tenant: 'NOT A TENANT' })]));
      process.emit('SIGHUP', 'SIGHUP');
      expect(await auth.authenticator.callerOf('secret-key-2')).toMatchObject({ name: 'rotated' });
      const failure = lines.map((l) => JSON.parse(l)).find((l) => l.level === 50);
      expect(failure).toMatchObject({ msg: 'API keys reload failed; keeping the previous keys' });
      expect(failure.reason).toMatch(/^entry 0 \(checkout\): tenant /);
    } finally {
      auth.stop();
    }
  });
});
