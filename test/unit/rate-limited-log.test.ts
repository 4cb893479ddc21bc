import pino from 'pino';
import { rateLimitedLog } from '../../src/telemetry/rate-limited-log';

function capture() {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  let now = 0;
  const log = rateLimitedLog(logger, 10_000, () => now);
  return { lines, log, advance: (ms: number) => (now += ms) };
}

describe('rate-limited log', () => {
  it('writes a repeated message once per window, then says how many it held back', () => {
    const { lines, log, advance } = capture();
    for (let i = 0; i < 500; i++) log('warn', 'Connection Error: Connection ended unexpectedly');
    advance(10_000);
    log('warn', 'Connection Error: Connection ended unexpectedly');
    expect(lines.map((l) => [l.msg, l.suppressed])).toEqual([
      ['Connection Error: Connection ended unexpectedly', undefined],
      ['Connection Error: Connection ended unexpectedly', 499],
    ]);
  });

  it('keys on level and first line: stacks below it do not make a message new, other messages pass', () => {
    const { lines, log } = capture();
    log('warn', 'Acquire connection error: Error: connect ECONNREFUSED\n    at a (x.js:1)');
    log('warn', 'Acquire connection error: Error: connect ECONNREFUSED\n    at b (y.js:2)');
    log('error', 'Acquire connection error: Error: connect ECONNREFUSED');
    log('warn', 'something else');
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [40, 'Acquire connection error: Error: connect ECONNREFUSED'],
      [50, 'Acquire connection error: Error: connect ECONNREFUSED'],
      [40, 'something else'],
    ]);
    expect(lines[0]!.detail).toBe('    at a (x.js:1)');
  });
});
