import fs from 'node:fs';
import path from 'node:path';
import { load } from 'js-yaml';
import { metricNamesIn, selectableNames } from '../support/promql-metric-names';
import { createTestDatabase, TestDatabase } from '../support/test-database';
import { startTestService, TestService } from '../support/test-service';

const DEPLOY = path.resolve(__dirname, '../../deploy');

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { uid?: string };
  targets?: { refId: string; expr: string }[];
}

interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: { severity: string };
  annotations: { summary: string; description: string };
}

const dashboard = JSON.parse(fs.readFileSync(path.join(DEPLOY, 'grafana-dashboard.json'), 'utf8')) as {
  uid: string;
  panels: Panel[];
  templating: { list: { name: string; query: unknown }[] };
};
const rules = (
  load(fs.readFileSync(path.join(DEPLOY, 'prometheus-alerts.yaml'), 'utf8')) as { groups: { rules: AlertRule[] }[] }
).groups.flatMap((group) => group.rules);

const panelExpressions = dashboard.panels.flatMap((panel) =>
  (panel.targets ?? []).map((target) => ({ where: `panel "${panel.title}" ${target.refId}`, expr: target.expr })),
);
// label_values(metric, label): the first argument is a metric, the second a label.
const variableExpressions = dashboard.templating.list.flatMap((variable) => {
  const query = (variable.query as { query?: string } | undefined)?.query;
  const metric = query && /^label_values\((\w+),\s*\w+\)$/.exec(query)?.[1];
  return metric ? [{ where: `variable $${variable.name}`, expr: metric }] : [];
});
const ruleExpressions = rules.map((rule) => ({ where: `alert ${rule.alert}`, expr: rule.expr }));
const everyExpression = [...panelExpressions, ...variableExpressions, ...ruleExpressions];

describe('deploy/: the Grafana dashboard and the Prometheus alert rules', () => {
  let db: TestDatabase;
  let service: TestService;
  let scrape: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    service = await startTestService({ DATABASE_URL: db.url });
    scrape = await (await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).text();
  });
  afterAll(async () => {
    await service?.close();
    await db?.drop();
  });

  it('is a well-formed dashboard: unique panel ids, every query on the chosen data source', () => {
    expect(dashboard.uid).toBe('billing-adapter');
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels.filter((p) => p.type !== 'row')) {
      expect({ panel: panel.title, uid: panel.datasource?.uid }).toEqual({ panel: panel.title, uid: '${datasource}' });
      expect(panel.targets?.length).toBeGreaterThan(0);
    }
  });

  it('has alert rules Prometheus can load: a name, an expression, a severity, a summary and a description each', () => {
    expect(rules.length).toBeGreaterThan(0);
    const names = rules.map((rule) => rule.alert);
    expect(new Set(names).size).toBe(names.length);
    for (const rule of rules) {
      expect(rule.alert).toMatch(/^Billing[A-Za-z]+$/);
      expect(typeof rule.expr).toBe('string');
      if (rule.for !== undefined) expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(['warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary).toBeTruthy();
      expect(rule.annotations.description).toBeTruthy();
    }
  });

  it('uses only metrics a running service serves on /metrics', () => {
    const served = selectableNames(scrape);
    const missing = everyExpression.flatMap(({ where, expr }) => {
      const names = metricNamesIn(expr);
      if (names.length === 0) return [`${where}: selects no metric`];
      return names.filter((name) => !served.has(name)).map((name) => `${where}: ${name}`);
    });
    expect(missing).toEqual([]);
  });

  it('covers what on-call needs: RPCs, backlogs, dead letters, background work and provider calls', () => {
    const used = (expressions: { expr: string }[]) => new Set(expressions.flatMap(({ expr }) => metricNamesIn(expr)));
    const onDashboard = used(panelExpressions);
    for (const name of [
      'billing_grpc_server_duration_seconds_count',
      'billing_grpc_server_duration_seconds_bucket',
      'billing_outbox_backlog',
      'billing_webhook_inbox_backlog',
      'billing_webhook_dead_letters',
      'billing_outbox_parked',
      'billing_scheduled_actions_failed',
      'billing_reconciler_rows_total',
      'billing_reconciler_given_up_total',
      'billing_scheduled_actions_total',
      'billing_provider_call_duration_seconds_count',
      'billing_provider_call_duration_seconds_bucket',
    ])
      expect({ onDashboard: name, found: onDashboard.has(name) }).toEqual({ onDashboard: name, found: true });
    const alerted = used(ruleExpressions);
    for (const name of [
      'billing_webhook_dead_letters',
      'billing_outbox_backlog',
      'billing_provider_call_duration_seconds_count',
      'billing_grpc_server_duration_seconds_count',
      'billing_reconciler_rows_total',
    ])
      expect({ alerted: name, found: alerted.has(name) }).toEqual({ alerted: name, found: true });
  });
});
