/**
 * A provider's free text (a decline reason, a failure message) as we keep it: one line, control characters as
 * spaces, at most `max` characters. The core refuses an answer holding a NUL or a text past 4,096 characters
 * (src/app/providers/answer-check.ts), so a provider's odd message must not cost the whole payment it describes.
 * Unlike a text quoted in our own errors, letters beyond ASCII stay: a localized decline reason is still read.
 */
export function providerText(text: string, max = 1_000): string {
  const line = text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u001f\u007f-\u009f]+/g, ' ')
    .replace(/\p{Cs}/gu, '\ufffd')
    .trim();
  if (line.length <= max) return line;
  // Not between the two halves of a pair (an emoji), which would leave half of it alone.
  const end = /[\ud800-\udbff]/.test(line[max - 1]!) ? max - 1 : max;
  return `${line.slice(0, end)}…`;
}
