import { BillingError } from '../../packages/client/src';

/** How a command's answer is shown: `--json` for scripts, aligned text for people. */
export interface Output {
  json: boolean;
  /** Writes a line to stdout. */
  line(text: string): void;
  /** Writes a remark to stderr, so stdout stays the answer alone (valid JSON with `--json`). */
  note(text: string): void;
}

export function consoleOutput(json: boolean): Output {
  return {
    json,
    line: (text) => process.stdout.write(`${text}\n`),
    note: (text) => process.stderr.write(`${text}\n`),
  };
}

/** Prints `value` as JSON (the generated `toJSON` form: int64 as strings, enums by name, times as RFC 3339). */
export function printJson(out: Output, value: unknown): void {
  out.line(jsonText(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'bigint' ? v.toString() : v), 2)));
}

/**
 * Control characters in text that reached the service or Kafka from outside (a customer's name, an event type): ESC
 * and the C1 CSI/OSC introducers start terminal escape sequences (colours, titles, links), CR and LF forge lines.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** `text` with its C0 and C1 control characters removed, safe to print on a terminal for people. */
export function printable(text: string): string {
  return text.replace(CONTROL_CHARACTERS, '');
}

/**
 * JSON.stringify's output with DEL and the C1 controls escaped too (it escapes only C0), so `--json` on a terminal
 * cannot start an escape sequence either. They occur only inside strings, where `\u00XX` means the same character.
 */
export function jsonText(json: string): string {
  return json.replace(/[\u007f-\u009f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** `key: value` rows, keys padded so the values line up; empty values are left out. */
export function printFields(out: Output, rows: Record<string, string | undefined>): void {
  const shown = Object.entries(rows).flatMap(([k, v]) => (v ? [[k, printable(v)] as const] : []));
  const width = Math.max(0, ...shown.map(([k]) => k.length));
  for (const [k, v] of shown) out.line(`${`${k}:`.padEnd(width + 1)} ${v}`);
}

/** A table with a header row; columns as wide as their widest cell. */
export function printTable(out: Output, header: string[], cells: string[][]): void {
  const rows = cells.map((row) => row.map(printable));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const render = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  out.line(render(header));
  for (const row of rows) out.line(render(row));
}

/** An enum value's name without its type prefix: SUBSCRIPTION_STATUS_ACTIVE → ACTIVE. */
export function enumName(name: string, prefix: string): string {
  return name.startsWith(prefix) ? name.slice(prefix.length) : name;
}

export function time(value: Date | undefined): string | undefined {
  return value?.toISOString();
}

/** Minor units as a decimal amount with the currency, without floats: 1999n EUR → "19.99 EUR". */
export function money(m: { currencyCode: string; amountMinor: bigint; amountDecimal?: string } | undefined) {
  if (!m) return undefined;
  if (m.amountDecimal) return `${m.amountDecimal} ${m.currencyCode}`;
  return `${m.amountMinor} (minor units) ${m.currencyCode}`;
}

/**
 * One line for a failed call: the status name, the service's message, and the first broken field and its rule (the
 * `error-field` / `error-rule` trailers: what a script or a person fixes first), unless the message already says both.
 */
export function describeError(error: unknown): string {
  if (!(error instanceof BillingError)) return oneLine(error instanceof Error ? error.message : String(error));
  // grpc-js appends transport notes after newlines; the CLI's contract is one line.
  const message = oneLine(error.details.replace(/\s*Resolution note:\s*$/, ''));
  const field = oneLine(error.field ?? '');
  const rule = oneLine(error.rule ?? '');
  const alreadySaid = field !== '' && rule !== '' && message.includes(field) && message.includes(rule);
  const where = alreadySaid ? '' : [field && `field: ${field}`, rule && `rule: ${rule}`].filter(Boolean).join(', ');
  return `${error.status}: ${message}${where ? ` (${where})` : ''}`;
}

export function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
