import { execFileSync } from 'node:child_process';
import net from 'node:net';
import path from 'node:path';

/** The PostgreSQL server tests use: DATABASE_URL when set, else the local one on 127.0.0.1:5432. */
export function adminDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

export const KAFKA_LOCAL = path.resolve(__dirname, '../../scripts/kafka-local');

export function portOpen(host: string, port: number, timeoutMs = 1000): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (open: boolean) => {
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Runs scripts/kafka-local with the given command and environment (port, state dir). */
export function kafkaLocal(command: 'start' | 'stop' | 'reset', env: Record<string, string> = {}): void {
  execFileSync(KAFKA_LOCAL, [command], { stdio: 'inherit', env: { ...process.env, ...env }, timeout: 600_000 });
}
