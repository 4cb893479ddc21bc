/** Longest error text kept on a row: enough to diagnose, never a whole response body. */
const ERROR_CHARS = 1000;

// C0 and C1 control characters. PostgreSQL refuses NUL in text outright, and the rest reach ListDeadLetters answers.
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g; // eslint-disable-line no-control-regex

/**
 * Why something failed, as a row may keep it: cut to ERROR_CHARS, control characters as `?`. The text often quotes a
 * provider's answer: a NUL in it made the failure impossible to record, so a webhook never became a dead letter and
 * was claimed first at every poll, ahead of every other tenant's.
 */
export function storedError(text: string): string {
  return text.slice(0, ERROR_CHARS).replace(CONTROL, '?');
}
