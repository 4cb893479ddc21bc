import { providerText } from '../../adapters/kit/provider-text';
import { answerViolations } from '../../src/app/providers/answer-check';

describe('providerText: a provider’s free text as we keep it', () => {
  it('keeps letters beyond ASCII, turns control characters into spaces, trims', () => {
    expect(providerText('  Karte abgelehnt –\u0000\r\n\u0085Überprüfung  ')).toBe('Karte abgelehnt – Überprüfung');
  });

  it('cuts at the limit without leaving half of an emoji, and replaces a lone half it was given', () => {
    const cut = providerText(`${'x'.repeat(9)}\u{1f600}tail`, 10);
    expect(cut).toBe(`${'x'.repeat(9)}…`);
    expect(providerText('half \ud83d here')).toBe('half \ufffd here');
    // Whatever it is given, what it returns passes the core's check of stored text.
    const hostile = `\u0000\ud800${'\u{1f600}'.repeat(3_000)}`;
    expect(answerViolations({ failure: { code: 'c', message: providerText(hostile) } }, 'payment')).toEqual([]);
  });
});
