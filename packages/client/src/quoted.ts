const QUOTED_MAX_CHARACTERS = 100;

/**
 * A value from a message or a handler, fit for one log line or error message: at most 100 characters, in JSON
 * quotes, so newlines and control characters are escaped and a hostile header cannot forge or flood log lines.
 */
export function quoted(value: string): string {
  return JSON.stringify(value.slice(0, QUOTED_MAX_CHARACTERS));
}
