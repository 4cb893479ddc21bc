import fs from 'node:fs';
import path from 'node:path';

/**
 * An emulator's state kept on disk as one JSON file, so a restart remembers what the provider would. Writes are
 * atomic (a temporary file renamed over the old one: a crash leaves the old state or the new, never half of one)
 * and debounced (a burst of mutations is one write); `flush` writes now (on stop). Without a path nothing is kept.
 */
export class StateFile {
  private timer: NodeJS.Timeout | undefined;
  private snapshot: (() => unknown) | undefined;

  constructor(
    readonly file: string | undefined,
    private readonly debounceMs = 50,
  ) {}

  /** The saved state, or undefined when there is none yet. A file that cannot be read is an error, not a fresh start. */
  load(): unknown {
    if (!this.file || !fs.existsSync(this.file)) return undefined;
    const text = fs.readFileSync(this.file, 'utf8');
    try {
      return JSON.parse(text, revive) as unknown;
    } catch (error) {
      throw new Error(
        `emulator state ${this.file} is not valid JSON (${(error as Error).message}); move it away to start empty`,
      );
    }
  }

  /** Something changed: write `snapshot()` soon. */
  changed(snapshot: () => unknown): void {
    if (!this.file) return;
    this.snapshot = snapshot;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.flush();
    }, this.debounceMs);
    this.timer.unref();
  }

  /** Writes a pending change now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const snapshot = this.snapshot;
    this.snapshot = undefined;
    if (!this.file || !snapshot) return;
    writeAtomically(this.file, JSON.stringify(snapshot(), replace));
  }
}

/** Writes `text` to `file` through a temporary file and a rename. */
export function writeAtomically(file: string, text: string): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(temporary, text, { mode: 0o600 });
  fs.renameSync(temporary, file);
}

// Money is bigint in emulators; JSON has no bigint, so it travels tagged.
function replace(_key: string, value: unknown): unknown {
  return typeof value === 'bigint' ? { $bigint: value.toString() } : value;
}

function revive(_key: string, value: unknown): unknown {
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    const tagged = (value as { $bigint?: unknown }).$bigint;
    if (keys.length === 1 && typeof tagged === 'string' && /^-?\d+$/.test(tagged)) return BigInt(tagged);
  }
  return value;
}
