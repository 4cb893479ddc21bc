/** A mistake in how the CLI was called (unknown command, missing or bad flag): exit code 2, not a service error. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The command line split into words before the first flag and `--name value` / `--switch` flags. */
export interface Args {
  positional: string[];
  /** Every occurrence of each flag in order: `--config a=1 --config b=2` keeps both. */
  flags: Map<string, (string | true)[]>;
}

/**
 * The flags that never take a value. Declared here, not guessed from what follows: `cancel --at-period-end sub_1`
 * must not read `sub_1` as the switch's value. Flags.switch accepts only these names.
 */
const SWITCHES = ['json', 'all', 'at-period-end', 'archived', 'from-beginning', 'help'] as const;
export type Switch = (typeof SWITCHES)[number];
const isSwitch = (name: string): boolean => (SWITCHES as readonly string[]).includes(name);

/**
 * Parses `a b --flag value --switch --k=v`. A declared switch never takes the next word; another flag takes it unless
 * it is a flag itself. Which flags need values is checked by the command that reads them, so an unknown flag is
 * reported by name.
 */
export function parseArgs(argv: readonly string[]): Args {
  const positional: string[] = [];
  const flags = new Map<string, (string | true)[]>();
  const add = (name: string, value: string | true) => flags.set(name, [...(flags.get(name) ?? []), value]);
  for (let i = 0; i < argv.length; i++) {
    const word = argv[i]!;
    if (!word.startsWith('--')) {
      positional.push(word);
      continue;
    }
    const eq = word.indexOf('=');
    if (eq > 2) {
      add(word.slice(2, eq), word.slice(eq + 1));
      continue;
    }
    const next = argv[i + 1];
    if (!isSwitch(word.slice(2)) && next !== undefined && !next.startsWith('--')) {
      add(word.slice(2), next);
      i++;
    } else {
      add(word.slice(2), true);
    }
  }
  return { positional, flags };
}

/** Reads a command's flags and rejects the ones it does not know, so a typo is not silently ignored. */
export class Flags {
  private readonly read = new Set<string>(['json']);

  constructor(private readonly args: Args) {}

  required(name: string): string {
    const value = this.optional(name);
    if (value === undefined) throw new UsageError(`--${name} is required`);
    return value;
  }

  /** A single-valued flag; given twice, the last one counts (as a shell user overriding an alias expects). */
  optional(name: string): string | undefined {
    return this.list(name).at(-1);
  }

  /** Every value of a repeatable flag (`--config k=v --config k2=v2`), in order; empty when not given. */
  list(name: string): string[] {
    this.read.add(name);
    const values = this.args.flags.get(name) ?? [];
    if (values.includes(true)) throw new UsageError(`--${name} needs a value`);
    return values as string[];
  }

  /** A repeatable `--name key=value` as a map (`--config base_url=http://…`); a value without `=` is a mistake. */
  pairs(name: string): Record<string, string> {
    const pairs: Record<string, string> = {};
    for (const item of this.list(name)) {
      const eq = item.indexOf('=');
      if (eq < 1) throw new UsageError(`--${name} takes key=value (got '${item}')`);
      pairs[item.slice(0, eq)] = item.slice(eq + 1);
    }
    return pairs;
  }

  /** A whole number of at least `min`, or undefined when the flag is absent. */
  integer(name: string, min: number): number | undefined {
    const text = this.optional(name);
    if (text === undefined) return undefined;
    const value = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(value) || value < min) {
      throw new UsageError(`--${name} must be a whole number of at least ${min} (got '${text}')`);
    }
    return value;
  }

  switch(name: Switch): boolean {
    this.read.add(name);
    const value = this.args.flags.get(name)?.at(-1);
    if (value !== undefined && value !== true) throw new UsageError(`--${name} takes no value (got '${value}')`);
    return value === true;
  }

  /** The single positional operand after the command words (`subscriptions get ID`). */
  operand(index: number, name: string): string {
    const value = this.args.positional[index];
    if (value === undefined) throw new UsageError(`${name} is required`);
    return value;
  }

  /** Call after reading every flag: an unread flag is one the command does not have. */
  done(maxPositional: number): void {
    for (const name of this.args.flags.keys()) {
      if (!this.read.has(name)) throw new UsageError(`unknown flag --${name}`);
    }
    const extra = this.args.positional[maxPositional];
    if (extra !== undefined) throw new UsageError(`unexpected argument '${extra}'`);
  }
}
