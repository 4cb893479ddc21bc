/** Limits for text that leaves the process in a status: trailers must be printable ASCII and headers stay small. */
export const TEXT_LIMITS = { quoted: 64, field: 200, rule: 200, details: 1000 } as const;

// A caller's value quoted inside a message ('like this'): longer ones are cut so a 1 MiB id is not echoed back.
const QUOTED = /'([^']*)'/g;

/**
 * Makes any text safe for a gRPC status or trailer: quoted values cut to 64 characters, every character outside
 * printable ASCII escaped as `\uXXXX`, the whole bounded to `max`. Never throws, whatever it is given.
 */
export function safeText(text: unknown, max: number): string {
  const raw = typeof text === 'string' ? text : stringOf(text);
  const quoted = raw.replace(QUOTED, (_, value: string) =>
    value.length > TEXT_LIMITS.quoted ? `'${value.slice(0, TEXT_LIMITS.quoted - 3)}...'` : `'${value}'`,
  );
  // Escaping can only lengthen: no more than the head of a long text can survive the bound.
  const head = quoted.length > max ? quoted.slice(0, max) : quoted;
  const ascii = head.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return ascii.length > max || head !== quoted ? `${ascii.slice(0, max - 3)}...` : ascii;
}

function stringOf(value: unknown): string {
  try {
    return String(value ?? '');
  } catch {
    return ''; // e.g. an object without a prototype
  }
}
