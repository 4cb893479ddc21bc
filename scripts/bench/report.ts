import fs from 'node:fs';
import path from 'node:path';
import type { Run } from './stats';

export type Target =
  { kind: 'ratio'; min: number } | { kind: 'perSecond'; min: number } | { kind: 'p99'; maxMs: number };

/** One line of the table: our path, its baseline, and the target where it sets one. */
export interface Row {
  path: string;
  perSecond?: number;
  p50?: number;
  p99?: number;
  baseline?: string;
  baselinePerSecond?: number;
  target?: Target;
  /** For rows that are a single number (start-up, RSS). */
  value?: string;
}

export const ratioOf = (row: Row) =>
  row.perSecond !== undefined && row.baselinePerSecond ? row.perSecond / row.baselinePerSecond : undefined;

function targetCell(row: Row): string {
  const { target } = row;
  if (!target) return '';
  if (target.kind === 'p99') {
    return `p99 ≤ ${target.maxMs} ms ${(row.p99 ?? Infinity) <= target.maxMs ? 'pass' : 'above'}`;
  }
  const reached = target.kind === 'ratio' ? (ratioOf(row) ?? 0) >= target.min : (row.perSecond ?? 0) >= target.min;
  const goal = target.kind === 'ratio' ? `≥ ${target.min}` : `≥ ${target.min.toLocaleString('en')}/s`;
  return `${goal} ${reached ? 'pass' : 'below'}`;
}

const fixed = (n: number | undefined, digits: number) => (n === undefined ? '' : n.toFixed(digits));

export function markdownTable(rows: readonly Row[]): string {
  const lines = [
    '| path | req/s | p50 ms | p99 ms | baseline | baseline req/s | ratio | target |',
    '|---|---:|---:|---:|---|---:|---:|---|',
  ];
  for (const row of rows) {
    const perSecond = row.value ?? fixed(row.perSecond, 0);
    lines.push(
      `| ${row.path} | ${perSecond} | ${fixed(row.p50, 1)} | ${fixed(row.p99, 1)} | ${row.baseline ?? ''} | ` +
        `${fixed(row.baselinePerSecond, 0)} | ${fixed(ratioOf(row), 2)} | ${targetCell(row)} |`,
    );
  }
  return lines.join('\n');
}

/** Latency against offered load (concurrency) for one path: ours and its baseline, p50 and p99. */
export interface LoadCurve {
  title: string;
  ours: Run[];
  baseline: Run[];
}

/** Writes table.md, results.json and latency.svg into `folder`. */
export function writeReport(folder: string, rows: readonly Row[], curves: readonly LoadCurve[], meta: object): void {
  fs.mkdirSync(folder, { recursive: true });
  fs.writeFileSync(path.join(folder, 'table.md'), `${markdownTable(rows)}\n`);
  fs.writeFileSync(
    path.join(folder, 'results.json'),
    `${JSON.stringify({ ...meta, rows: rows.map((r) => ({ ...r, ratio: ratioOf(r) })), curves }, null, 2)}\n`,
  );
  fs.writeFileSync(path.join(folder, 'latency.svg'), latencySvg(curves));
}

const PANEL = { width: 460, height: 300, left: 60, right: 20, top: 40, bottom: 50 };
const SERIES = [
  { name: 'ours p50', color: '#1f77b4', dash: '', pick: (c: LoadCurve) => c.ours.map((r) => r.p50) },
  { name: 'ours p99', color: '#1f77b4', dash: '6 4', pick: (c: LoadCurve) => c.ours.map((r) => r.p99) },
  { name: 'baseline p50', color: '#ff7f0e', dash: '', pick: (c: LoadCurve) => c.baseline.map((r) => r.p50) },
  { name: 'baseline p99', color: '#ff7f0e', dash: '6 4', pick: (c: LoadCurve) => c.baseline.map((r) => r.p99) },
];

/** Hand-written SVG: one panel per curve, x = concurrency (evenly spaced levels), y = latency in ms. */
export function latencySvg(curves: readonly LoadCurve[]): string {
  const width = PANEL.width * curves.length;
  const parts = curves.map((curve, index) => panel(curve, index * PANEL.width));
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL.height + 30}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    legend(),
    '</svg>',
    '',
  ].join('\n');
}

function panel(curve: LoadCurve, x0: number): string {
  const levels = curve.ours.map((r) => r.concurrency);
  const maxMs = Math.max(1, ...SERIES.flatMap((s) => s.pick(curve))) * 1.1;
  const plotW = PANEL.width - PANEL.left - PANEL.right;
  const plotH = PANEL.height - PANEL.top - PANEL.bottom;
  const x = (i: number) => x0 + PANEL.left + (levels.length === 1 ? plotW / 2 : (i * plotW) / (levels.length - 1));
  const y = (ms: number) => PANEL.top + plotH - (ms / maxMs) * plotH;
  const out = [
    `<text x="${x0 + PANEL.width / 2}" y="20" text-anchor="middle" font-size="13">${escape(curve.title)}</text>`,
    `<line x1="${x0 + PANEL.left}" y1="${PANEL.top + plotH}" x2="${x0 + PANEL.left + plotW}" y2="${PANEL.top + plotH}" stroke="black"/>`,
    `<line x1="${x0 + PANEL.left}" y1="${PANEL.top}" x2="${x0 + PANEL.left}" y2="${PANEL.top + plotH}" stroke="black"/>`,
    `<text x="${x0 + PANEL.left + plotW / 2}" y="${PANEL.height - 12}" text-anchor="middle">requests in flight</text>`,
    `<text x="${x0 + 14}" y="${PANEL.top + plotH / 2}" transform="rotate(-90 ${x0 + 14} ${PANEL.top + plotH / 2})" text-anchor="middle">latency (ms)</text>`,
  ];
  levels.forEach((level, i) =>
    out.push(`<text x="${x(i)}" y="${PANEL.top + plotH + 16}" text-anchor="middle">${level}</text>`),
  );
  for (let t = 0; t <= 4; t++) {
    const ms = (maxMs * t) / 4;
    out.push(
      `<text x="${x0 + PANEL.left - 6}" y="${y(ms) + 4}" text-anchor="end">${ms.toFixed(ms < 10 ? 1 : 0)}</text>`,
      `<line x1="${x0 + PANEL.left}" y1="${y(ms)}" x2="${x0 + PANEL.left + plotW}" y2="${y(ms)}" stroke="#ddd"/>`,
    );
  }
  for (const s of SERIES) {
    const points = s.pick(curve).map((ms, i) => `${x(i).toFixed(1)},${y(ms).toFixed(1)}`);
    out.push(
      `<polyline points="${points.join(' ')}" fill="none" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/>`,
    );
  }
  return out.join('\n');
}

function legend(): string {
  return SERIES.map((s, i) => {
    const lx = 70 + i * 130;
    const ly = PANEL.height + 12;
    return (
      `<line x1="${lx}" y1="${ly}" x2="${lx + 24}" y2="${ly}" stroke="${s.color}" stroke-width="2" stroke-dasharray="${s.dash}"/>` +
      `<text x="${lx + 30}" y="${ly + 4}">${s.name}</text>`
    );
  }).join('\n');
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');
