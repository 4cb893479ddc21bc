import pino from 'pino';
import { rateLimitedLog } from '../../src/telemetry/rate-limited-log';

function capture(distinctLines?: number) {
  const lines: Record<string, unknown>[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  let now = 0;
  const log = rateLimitedLog(logger, 10_000, () => now, distinctLines);
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

  it('beyond its distinct lines in one window, writes one summary per window instead of each new line', () => {
    const { lines, log, advance } = capture(3);
    for (let i = 0; i < 10; i++) log('warn', `caller-chosen text ${i}`);
    expect(lines.map((l) => [l.msg, l.suppressed])).toEqual([
      ['caller-chosen text 0', undefined],
      ['caller-chosen text 1', undefined],
      ['caller-chosen text 2', undefined],
      ['log lines held back: more distinct messages in one window than the log remembers', 1],
    ]);
    advance(10_000);
    log('warn', 'caller-chosen text 99');
    log('warn', 'caller-chosen text 2');
    expect(lines.slice(4).map((l) => [l.msg, l.suppressed])).toEqual([
      // a window later the six lines held back since the summary are counted, and new lines are written again
      ['log lines held back: more distinct messages in one window than the log remembers', 6],
      ['caller-chosen text 99', undefined],
      ['caller-chosen text 2', undefined],
    ]);
  });

  it('writes the count of a line it forgets with repeats held back, once another line comes a window later', () => {
    const { lines, log, advance } = capture();
    for (let i = 0; i < 5; i++) log('error', 'Kafka broker unreachable');
    advance(10_000);
    log('info', 'Kafka broker reachable');
    expect(lines.map((l) => [l.level, l.msg, l.suppressed])).toEqual([
      [50, 'Kafka broker unreachable', undefined],
      [50, 'Kafka broker unreachable', 4],
      [30, 'Kafka broker reachable', undefined],
    ]);
  });

  it('writes a bounded number of lines however many distinct ones a caller provokes in a window', () => {
    const { lines, log } = capture();
    // Before, each new line past 1,000 scanned every remembered one: 200,000 lines blocked the event loop for minutes.
    for (let i = 0; i < 200_000; i++) log('warn', `line ${i}`);
    expect(lines).toHaveLength(1_001);
    expect(lines.at(-1)).toMatchObject({ suppressed: 1 });
  });
});
