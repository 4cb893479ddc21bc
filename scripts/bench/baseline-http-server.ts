/**
 * Ingress baseline: node:http reading the body and storing it with one INSERT through a pg pool of the service's
 * size, 200 after the insert. Its own process (BENCH_DATABASE_URL); reports its port over IPC.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'pg';

const pool = new Pool({ connectionString: process.env.BENCH_DATABASE_URL, max: 10 });
pool.on('error', () => undefined);

const server = http.createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (chunk: Buffer) => chunks.push(chunk));
  req.on('end', () => {
    pool
      .query('INSERT INTO bench_raw_webhooks (body) VALUES ($1)', [Buffer.concat(chunks)])
      .then(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}'))
      .catch((error: Error) => res.writeHead(500).end(error.message));
  });
});
server.listen(0, '127.0.0.1', () => process.send!({ ready: { port: (server.address() as AddressInfo).port } }));
process.on('SIGTERM', () => {
  server.close();
  void pool.end().then(() => process.exit(0));
});
