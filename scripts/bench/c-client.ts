/**
 * The read path measured from a load generator written in C: h2load (nghttp2 1.44 or later, for `--rps`), when it
 * is on PATH (Debian and Ubuntu: `apt-get install nghttp2-client`; macOS: `brew install nghttp2`). It has no
 * garbage collector, so its own pauses add nothing to either side's tail, and it spends a fraction of the grpc-js
 * client's CPU per call, so the servers' costs decide the ratio instead of being diluted by the generator's.
 *
 * gRPC over h2c is a POST of one length-prefixed message. h2load counts HTTP statuses only, and a gRPC error is an
 * HTTP 200 with a non-zero grpc-status trailer, so the service's own counter of GetSubscription answered OK
 * (Prometheus, /metrics) must grow by every call sent: a refused call fails the run, never becomes a number.
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { GetSubscriptionRequest, SubscriptionServiceService } from '../../src/gen/billing/v1/subscription';
import { TEST_KEYS } from '../../test/support/test-service';
import type { Row } from './report';
import { medianByRate, Run, runOf } from './stats';

const execFileAsync = promisify(execFile);

/** nghttp2 1.44 added `--rps`, which the paced row needs. */
const OLDEST_H2LOAD = [1, 44];

/** Why the C-client rows cannot run here (no h2load, or one too old), or undefined when they can. */
export async function h2loadMissing(): Promise<string | undefined> {
  let version: string;
  try {
    version = (await execFileAsync('h2load', ['--version'])).stdout;
  } catch {
    return 'h2load not found';
  }
  const [major = 0, minor = 0] = (/nghttp2\/(\d+)\.(\d+)/.exec(version) ?? []).slice(1).map(Number);
  const [oldestMajor, oldestMinor] = OLDEST_H2LOAD as [number, number];
  if (major < oldestMajor || (major === oldestMajor && minor < oldestMinor)) {
    return `h2load ${version.trim()} is older than nghttp2 ${OLDEST_H2LOAD.join('.')}`;
  }
  return undefined;
}

interface Server {
  port: number;
  /** Calls answered OK so far, when the server counts them (ours); the raw server answers only constants. */
  answeredOk?: () => Promise<number>;
  /** Throws when the server has died, so a crash is an error and never a number. */
  assertAlive?: () => void;
}

interface Job {
  requests: number;
  /** Streams in flight per connection. */
  streams: number;
  /** Paced at this rate in all (see `pacing`); closed loop when absent. */
  ratePerSecond?: number;
  /** Connections of a closed-loop run (1 when absent); a paced run has as many as its rate needs. */
  connections?: number;
}

export interface CClientCounts {
  requests: number;
  warmup: number;
  streams: number;
  runs: number;
  pacedSeconds: number;
}

/**
 * h2load paces each connection with a timer that ticks at most every 10 ms and sends what is due at each tick: at
 * about 1,900/s on one connection that is 19 requests at once, which queue inside a server that answers one at a
 * time and put milliseconds into every side's tail that no caller at that rate would see. (A timing script, one
 * timer per request, could not keep up: it sent about 960 of 1,814 requests/s.) So the rate is spread over
 * connections of at most 100 requests/s each, one request per tick. h2load opens its connections together, and
 * their timers then tick together, sending a request on every connection at once; so they are opened 1 ms apart
 * (`-r 1 --rate-period 1ms`), which spreads the ticks. Aligned, both sides' paced p50 read 4-6 ms; spread, 1-2 ms.
 */
const PACED_PER_CONNECTION = 100;
/**
 * Streams per paced connection: latency counts from when a request was sent, which is when it was due as long as
 * a stream is free; 16 is 160 ms of a connection's requests, so a stall of our server shows in full up to there.
 */
const PACED_STREAMS = 16;

/**
 * Two rows: GetSubscription against the raw grpc-js no-op at `counts.streams` in flight on one connection (each
 * side's median of `counts.runs`, taken in turns), and both paced at half of our saturation: our best rate there,
 * or closed loop over about as many connections as the paced run uses, one call at a time on each, if lower.
 */
export async function measureReadFromC(
  ours: Server,
  raw: Server,
  subscriptionId: string,
  counts: CClientCounts,
): Promise<Row[]> {
  const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-h2load-'));
  try {
    const body = path.join(folder, 'request.bin');
    fs.writeFileSync(body, grpcFrame(GetSubscriptionRequest.encode({ subscriptionId }).finish()));
    const h2load = (server: Server, job: Job) => runH2load(server, job, body, folder);
    for (const server of [ours, raw]) await h2load(server, { requests: counts.warmup, streams: counts.streams });
    const runs: Record<'ours' | 'raw', Run[]> = { ours: [], raw: [] };
    for (let i = 0; i < counts.runs; i++) {
      for (const side of i % 2 === 0 ? (['ours', 'raw'] as const) : (['raw', 'ours'] as const)) {
        const server = side === 'ours' ? ours : raw;
        runs[side].push(await h2load(server, { requests: counts.requests, streams: counts.streams }));
      }
    }
    const closed = { ours: medianByRate(runs.ours), raw: medianByRate(runs.raw) };
    // Saturation about where the paced run will be, over the connections that half of the one-connection rate would
    // open, one call at a time on each (the paced run then opens as many or fewer). Spread over connections, each
    // call costs a server more (its own reads and writes, none shared with other streams), so half of the
    // one-connection rate can be most of what a server does over many (ours: about 4,900/s over 46 connections
    // against 8,900/s on one; the raw server 7,500/s, so pacing both at 4,500/s loaded ours to 90%, the raw 60%).
    const estimate = Math.max(...runs.ours.map((r) => r.perSecond)) / 2;
    const spread = await h2load(ours, { requests: counts.requests, streams: 1, connections: connectionsFor(estimate) });
    const ratePerSecond = Math.min(estimate, spread.perSecond / 2);
    const paced: Job = {
      requests: Math.max(50, Math.round(ratePerSecond * counts.pacedSeconds)),
      streams: PACED_STREAMS,
      ratePerSecond,
    };
    const pacedOurs = await h2load(ours, paced);
    const pacedRaw = await h2load(raw, paced);
    return [
      {
        path: `read from a C client (h2load, ${counts.streams} streams on 1 connection)`,
        perSecond: closed.ours.perSecond,
        p50: closed.ours.p50,
        p99: closed.ours.p99,
        baseline: 'raw grpc-js no-op unary, same client',
        baselinePerSecond: closed.raw.perSecond,
        target: { kind: 'ratio', min: 0.9 },
      },
      {
        path: `read from a C client at half of saturation (paced at ${ratePerSecond.toFixed(0)}/s)`,
        perSecond: pacedOurs.perSecond,
        p50: pacedOurs.p50,
        p99: pacedOurs.p99,
        baseline: `raw grpc-js paced alike: p50 ${pacedRaw.p50.toFixed(1)}, p99 ${pacedRaw.p99.toFixed(1)} ms`,
        target: { kind: 'p99', maxMs: 5 },
      },
    ];
  } finally {
    fs.rmSync(folder, { recursive: true, force: true });
  }
}

/** One h2load run on one connection; each request's latency comes from its per-request log. */
async function runH2load(server: Server, job: Job, body: string, folder: string): Promise<Run> {
  server.assertAlive?.();
  const url = `http://127.0.0.1:${server.port}${SubscriptionServiceService.getSubscription.path}`;
  const log = path.join(folder, `requests-${server.port}.tsv`);
  // h2load appends to its log: each run starts on an empty one.
  fs.rmSync(log, { force: true });
  const okBefore = await server.answeredOk?.();
  const { stdout } = await execFileAsync(
    'h2load',
    [
      ...['-n', String(job.requests), '-m', String(job.streams), ...pacing(job)],
      // A server that stops answering fails the run within seconds instead of holding the bench.
      ...['-N', '10s', '-d', body, '--log-file', log],
      ...['-H', 'content-type: application/grpc', '-H', 'te: trailers'],
      ...['-H', `authorization: Bearer ${TEST_KEYS.admin.key}`],
      url,
    ],
    { timeout: 600_000 },
  );
  const succeeded = Number(/(\d+) succeeded/.exec(stdout)?.[1] ?? 0);
  if (succeeded !== job.requests) {
    throw new Error(`bench: h2load got ${succeeded} of ${job.requests} answers:\n${stdout}`);
  }
  if (okBefore !== undefined) {
    const ok = (await server.answeredOk!()) - okBefore;
    if (ok !== job.requests) throw new Error(`bench: the service answered ${ok} of ${job.requests} h2load calls OK`);
  }
  // Columns: start (µs since the epoch), HTTP status, µs until the response ended.
  const requests = fs
    .readFileSync(log, 'utf8')
    .trim()
    .split('\n')
    .map((line) => line.split('\t'))
    .map(([start, , micros]) => ({ start: Number(start), micros: Number(micros) }));
  let first = Infinity;
  let last = -Infinity;
  for (const { start, micros } of requests) {
    first = Math.min(first, start);
    last = Math.max(last, start + micros);
  }
  const latenciesMs = requests.map((r) => r.micros / 1000);
  return runOf(latenciesMs, (last - first) / 1e6, job.streams * (job.connections ?? 1));
}

/** Connections of a paced run at `ratePerSecond`: see PACED_PER_CONNECTION. */
function connectionsFor(ratePerSecond: number): number {
  return Math.ceil(ratePerSecond / PACED_PER_CONNECTION);
}

/** h2load's connections (`-c`) and, when paced, each one's rate (`--rps`): see PACED_PER_CONNECTION. */
function pacing(job: Job): string[] {
  if (!job.ratePerSecond) return ['-c', String(job.connections ?? 1)];
  const connections = Math.min(job.requests, connectionsFor(job.ratePerSecond));
  const perConnection = (job.ratePerSecond / connections).toFixed(2);
  return ['-c', String(connections), '--rps', perConnection, '-r', '1', '--rate-period', '1ms'];
}

/** A gRPC message on the wire: uncompressed flag, 4-byte big-endian length, the bytes. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.length);
  frame.writeUInt32BE(message.length, 1);
  frame.set(message, 5);
  return frame;
}

/** Calls of `rpc` the service answered OK, from its Prometheus histogram's count. */
export async function answeredOk(httpPort: number, rpc: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
  const line = text
    .split('\n')
    .find(
      (l) =>
        l.startsWith('billing_grpc_server_duration_seconds_count{') &&
        l.includes(`method="${rpc}"`) &&
        l.includes('code="OK"'),
    );
  return Number(line?.split(' ').pop() ?? 0);
}
