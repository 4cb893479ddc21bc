/**
 * `npx tsx scripts/bench/read-cpu.ts [calls] [rounds] [--node] [--idle]`: the CPU each server spends per
 * GetSubscription, ours (the built service: `npm run build` first) against the raw grpc-js no-op of the bench, in
 * alternating rounds of `calls` (10,000) each, `rounds` (12) per side. For iterating on the read path's cost per call:
 * the machine's speed drifts by a third within minutes, so each round's ratio to its neighbour is what to compare, and
 * the summary line gives the medians.
 *
 * CPU comes from /proc (user + system, every thread of the server), so it is the server's alone, whatever the client
 * costs. The client is h2load (16 streams on one connection); `--node` drives the bench's grpc-js load worker
 * instead and adds its CPU per call and the whole machine's. `--idle` first reports the idle service's CPU over three
 * 10 s windows. Each round prints its time window (µs of the monotonic clock, as in V8's CPU profiles), so a profile
 * taken with BENCH_SERVICE_NODE_ARGS="--cpu-prof --cpu-prof-dir=<dir>" can be cut to the rounds; the same in
 * BENCH_CHILD_NODE_ARGS profiles the raw server too, to compare the two profiles round for round.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import {
  GetSubscriptionRequest,
  GetSubscriptionResponse,
  SubscriptionServiceClient,
  SubscriptionServiceService,
} from '../../src/gen/billing/v1/subscription';
import { freePort } from '../../test/support/free-port';
import { createTestDatabase } from '../../test/support/test-database';
import { call, TEST_KEYS } from '../../test/support/test-service';
import { grpcFrame } from './c-client';
import { BenchChild } from './children';
import { endChildrenOnSignal } from './live-children';
import { LoadGenerator } from './load-generator';
import { cpuSecondsOf, machineBusySeconds } from './proc-cpu';
import { ServiceProcess } from './service-process';
import { createWorld, seed } from './world';

const [CALLS, ROUNDS] = [Number(process.argv[2] ?? 10_000), Number(process.argv[3] ?? 12)];
const NODE_CLIENT = process.argv.includes('--node');
const IDLE = process.argv.includes('--idle');
/** CPU used so far by every thread of `pid`, µs. */
const cpuMicros = (pid: number) => cpuSecondsOf(`/proc/${pid}/stat`) * 1e6;
const machineBusyMicros = () => machineBusySeconds() * 1e6;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  endChildrenOnSignal();
  const cleanup: (() => unknown)[] = [];
  try {
    const scratch = await createTestDatabase();
    cleanup.push(() => scratch.drop());
    const ports = { grpc: await freePort(), http: await freePort() };
    const world = await createWorld(scratch.url, ports.http);
    cleanup.push(() => world.emulator.stop());
    const service = await ServiceProcess.start(world.serviceEnv('', 'read-cpu'), ports, { runtime: 'built' });
    cleanup.push(() => service.stop());
    const { subscriptionId } = await seed(ports.grpc, world);
    const client = new SubscriptionServiceClient(`127.0.0.1:${ports.grpc}`, grpc.credentials.createInsecure());
    const response = await call(client, client.getSubscription, { subscriptionId });
    client.close();
    const raw = await BenchChild.fork<{ port: number }>('baseline-grpc-server.ts', {
      BENCH_CONSTANT_RESPONSE: Buffer.from(GetSubscriptionResponse.encode(response).finish()).toString('base64'),
    });
    cleanup.push(() => raw.stop());
    const sides = { ours: { port: ports.grpc, pid: service.pid }, raw: { port: raw.ready.port, pid: raw.proc.pid! } };

    if (IDLE) {
      for (let i = 0; i < 3; i++) {
        const before = cpuMicros(service.pid);
        await new Promise((resolve) => setTimeout(resolve, 10_000));
        console.log(`idle service: ${((cpuMicros(service.pid) - before) / 100_000).toFixed(1)}% of a core`);
      }
    }

    const folder = fs.mkdtempSync(path.join(os.tmpdir(), 'read-cpu-'));
    cleanup.push(() => fs.rmSync(folder, { recursive: true, force: true }));
    const body = path.join(folder, 'request.bin');
    fs.writeFileSync(body, grpcFrame(GetSubscriptionRequest.encode({ subscriptionId }).finish()));
    const h2load = (port: number, calls: number) => {
      const out = execFileSync(
        'h2load',
        [
          ...['-n', String(calls), '-m', '16', '-c', '1', '-d', body],
          ...['-H', 'content-type: application/grpc', '-H', 'te: trailers'],
          ...['-H', `authorization: Bearer ${TEST_KEYS.admin.key}`],
          `http://127.0.0.1:${port}${SubscriptionServiceService.getSubscription.path}`,
        ],
        { encoding: 'utf8' },
      );
      if (Number(/(\d+) succeeded/.exec(out)?.[1]) !== calls)
        throw new Error(`h2load: not every call succeeded\n${out}`);
      return Number(/finished in [^,]+, ([\d.]+) req\/s/.exec(out)?.[1]);
    };

    const load = NODE_CLIENT ? await LoadGenerator.start() : undefined;
    if (load) cleanup.push(() => load.stop());
    const drive = async (port: number, calls: number): Promise<number> => {
      if (!load) return h2load(port, calls);
      const target = { kind: 'grpc-get-subscription', subscriptionId, address: `127.0.0.1:${port}` } as const;
      return (await load.run('read-cpu', { target, concurrency: 16, requests: calls, warmup: 0 })).perSecond;
    };
    for (const side of Object.values(sides)) await drive(side.port, 10_000);

    const perCall: Record<'ours' | 'raw', number[]> = { ours: [], raw: [] };
    for (let round = 0; round < ROUNDS; round++) {
      for (const name of round % 2 ? (['raw', 'ours'] as const) : (['ours', 'raw'] as const)) {
        const side = sides[name];
        const clientCpu = () => (load ? cpuMicros(load.pid) : 0);
        const [serverBefore, clientBefore, machineBefore] = [cpuMicros(side.pid), clientCpu(), machineBusyMicros()];
        const from = process.hrtime.bigint() / 1000n;
        const rate = await drive(side.port, CALLS);
        const to = process.hrtime.bigint() / 1000n;
        const server = (cpuMicros(side.pid) - serverBefore) / CALLS;
        perCall[name].push(server);
        const client = load ? `, client ${((clientCpu() - clientBefore) / CALLS).toFixed(0)} µs` : '';
        const machine = ((machineBusyMicros() - machineBefore) / CALLS).toFixed(0);
        console.log(
          `${name.padEnd(4)} ${server.toFixed(0).padStart(4)} µs CPU/call, ${rate.toFixed(0)}/s${client}, ` +
            `machine ${machine} µs/call (window ${from}-${to})`,
        );
      }
    }
    const ratios = perCall.ours.map((ours, i) => ours / perCall.raw[i]!);
    console.log(
      `median: ours ${median(perCall.ours).toFixed(0)} µs, raw ${median(perCall.raw).toFixed(0)} µs per call; ` +
        `ours/raw per round ${median(ratios).toFixed(2)}`,
    );
  } finally {
    for (const step of cleanup.reverse()) await step();
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
