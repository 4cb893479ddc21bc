/** Limits for text that leaves the process in a status: trailers must be printable ASCII and headers stay small. */
export const TEXT_LIMITS = { quoted: 64, field: 200, rule: 200, details: 1000 } as const;

// A caller's value quoted inside a message ('like this'): longer ones are cut so a 1 MiB id is not echoed back.
const QUOTED = /'([^']*)'/g;

/**
 * Makes any text safe for a gRPC status or trailer: quoted values cut to 64 characters, every character outside
 * printable ASCII escaped as `\uXXXX`, the whole bounded to `max`. Never throws, whatever it is given.
 */
export function safeText(text: unknown, max: number): string {
  const raw = typeof text === 'string' ? text : String(text ?? '');
  // Bound the work first: a 1 MiB message needs no more than its head to be understood.
  const head = raw.length > max * 2 ? raw.slice(0, max * 2) : raw;
  const quoted = head.replace(QUOTED, (_, value: string) =>
    value.length > TEXT_LIMITS.quoted ? `'${value.slice(0, TEXT_LIMITS.quoted - 3)}...'` : `'${value}'`,
  );
  const ascii = quoted.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return ascii.length > max ? `${ascii.slice(0, max - 3)}...` : ascii;
}
