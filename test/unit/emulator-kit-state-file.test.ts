import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { StateFile } from '../../adapters/kit/emulator/state-file';

describe('emulator kit state file', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'emulator-state-'));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('writes on flush through a temporary file and reads back bigints as bigints', () => {
    const file = path.join(dir, 'nested', 'p.json');
    const store = new StateFile(file, 60_000);
    expect(store.load()).toBeUndefined();
    store.changed(() => ({ amount: 1999n, list: [{ n: 1 }] }));
    // Debounced: nothing yet.
    expect(fs.existsSync(file)).toBe(false);
    store.flush();
    expect(new StateFile(file).load()).toEqual({ amount: 1999n, list: [{ n: 1 }] });
    expect(fs.readdirSync(path.dirname(file))).toEqual(['p.json']);
  });

  it('takes the latest snapshot when several changes come before a write', () => {
    const file = path.join(dir, 'latest.json');
    const store = new StateFile(file, 60_000);
    store.changed(() => ({ v: 1 }));
    store.changed(() => ({ v: 2 }));
    store.flush();
    expect(new StateFile(file).load()).toEqual({ v: 2 });
  });

  it('refuses a corrupt file instead of starting empty over it, naming the file', () => {
    const file = path.join(dir, 'bad.json');
    fs.writeFileSync(file, '{"half":');
    expect(() => new StateFile(file).load()).toThrow(/bad\.json is not valid JSON/);
  });

  it('keeps nothing without a path', () => {
    const store = new StateFile(undefined);
    store.changed(() => ({ v: 1 }));
    store.flush();
    expect(store.load()).toBeUndefined();
  });
});
