/** Words of PromQL that are neither metrics nor functions (binary operators, modifiers, grouping keywords). */
const KEYWORDS = new Set([
  'and',
  'or',
  'unless',
  'bool',
  'by',
  'without',
  'on',
  'ignoring',
  'group_left',
  'group_right',
  'offset',
  'inf',
  'nan',
]);

/**
 * The metric names a PromQL expression selects. Not a PromQL parser: it drops strings, label matchers, range and
 * subquery brackets and grouping label lists, then keeps every identifier that is not called (a function or an
 * aggregation) and not a keyword. Good enough for the expressions in deploy/, and strict: an unknown word is reported
 * as a metric, so the test fails rather than passes on something it did not understand.
 */
export function metricNamesIn(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""')
    .replace(/\{[^}]*\}/g, '')
    .replace(/\[[^\]]*\]/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  const names = new Set<string>();
  // Not after a digit, dot or word character: `1e3` and `5m` are numbers and durations, not names.
  for (const match of bare.matchAll(/(?<![\w.:])[A-Za-z_:][\w:]*/g)) {
    const called = /^\s*\(/.test(bare.slice(match.index + match[0].length));
    if (!called && !KEYWORDS.has(match[0].toLowerCase())) names.add(match[0]);
  }
  return [...names];
}

/**
 * The names a scrape lets a query select: each family's `# TYPE` line (so a metric that has no sample yet, such as a
 * labelled counter never incremented, still counts) expanded the way Prometheus stores it: a histogram as
 * `_bucket`, `_sum` and `_count`, a summary as itself plus `_sum` and `_count`.
 */
export function selectableNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    else if (type === 'summary') for (const suffix of ['', '_sum', '_count']) names.add(`${name}${suffix}`);
    else names.add(name!);
  }
  return names;
}
