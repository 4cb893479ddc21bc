import { metricNamesIn, selectableNames } from '../support/promql-metric-names';

describe('metricNamesIn (the monitoring test relies on it)', () => {
  it('finds the selected metrics, not functions, labels, durations, numbers or keywords', () => {
    const expr =
      'histogram_quantile(0.95, sum by (job, le) (rate(a_bucket{job=~"$job", code!="OK"}[$__rate_interval]))) > 1e3' +
      ' and on (job) max(min_over_time(b[15m:1m] offset 5m)) / ignoring (x) c unless d == bool 0';
    expect(metricNamesIn(expr).sort()).toEqual(['a_bucket', 'b', 'c', 'd']);
  });

  it('reports an unknown word as a metric, so the check fails rather than passes', () => {
    expect(metricNamesIn('sum(rate(x[5m])) > threshold')).toEqual(['x', 'threshold']);
  });
});

describe('selectableNames', () => {
  it('expands histograms and summaries the way Prometheus stores them', () => {
    const names = selectableNames('# TYPE h histogram\n# TYPE s summary\n# TYPE c_total counter\n# TYPE g gauge\n');
    expect([...names].sort()).toEqual(['c_total', 'g', 'h_bucket', 'h_count', 'h_sum', 's', 's_count', 's_sum']);
  });
});
