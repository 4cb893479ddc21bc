import http from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { parseIp } from '../domain/ip-address';
import { ipAllowed, IpRange } from '../domain/ip-allowlist';
import { handleWebhook, WEBHOOK_PATH, WebhookReceiver } from './webhook-route';

export interface HttpProbes {
  /** Ready = the gRPC server is serving and the database answered its last ping; must answer without waiting on it. */
  ready(): Promise<boolean>;
  /** What /readyz adds about dependencies readiness does not wait for (e.g. Kafka: events wait in the outbox). */
  detail?(): Record<string, unknown>;
  metrics: Registry;
}

export interface HttpRoutes extends HttpProbes {
  /** Provider webhooks; absent → 404. */
  webhooks?: WebhookReceiver;
  /** Where refused webhooks are logged (status and reason, never the body). */
  logger?: Logger;
  limits?: Partial<HttpLimits>;
  /** Peers whose X-Forwarded-For is believed (TRUSTED_PROXIES); none by default. */
  trustedProxies?: readonly IpRange[];
}

/** Bounds that keep slow or numerous clients (slowloris) from holding the listener. */
export interface HttpLimits {
  /** A request's headers must arrive within this. */
  headersTimeoutMs: number;
  /** The whole request (headers and body) must arrive within this. */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** Open connections beyond this are refused. */
  maxConnections: number;
  /**
   * Open connections from one sender beyond this are closed at once, so one sender holding connections open cannot
   * take the listener (webhooks, probes, metrics) from everyone else. A sender is an IPv4 address or an IPv6 /64 (one
   * host's usual allocation); a trusted proxy (TRUSTED_PROXIES) is not capped, as it carries everyone's connections.
   */
  maxConnectionsPerSender: number;
}

export const DEFAULT_HTTP_LIMITS: HttpLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  maxConnections: 1_000,
  maxConnectionsPerSender: 250,
};

/** The HTTP listener: provider webhooks (POST /webhooks/{provider}/{storefrontId}), liveness, readiness, metrics. */
export function createHttpServer(probes: HttpRoutes): http.Server {
  const limits = { ...DEFAULT_HTTP_LIMITS, ...probes.limits };
  const server = http.createServer(
    {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      keepAliveTimeout: limits.keepAliveTimeoutMs,
      // How often Node looks for requests past their timeouts; by default 30 s, which would let short limits slip.
      connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
    },
    (req, res) => route(probes, req, res),
  );
  server.maxConnections = limits.maxConnections;
  capConnectionsPerSender(server, limits.maxConnectionsPerSender, probes.trustedProxies ?? []);
  return server;
}

function capConnectionsPerSender(server: http.Server, cap: number, trustedProxies: readonly IpRange[]): void {
  const open = new Map<string, number>();
  server.on('connection', (socket: Socket) => {
    const sender = senderOf(socket.remoteAddress ?? '', trustedProxies);
    if (sender === undefined) return;
    const count = (open.get(sender) ?? 0) + 1;
    if (count > cap) {
      socket.destroy();
      return;
    }
    open.set(sender, count);
    socket.once('close', () => {
      const left = open.get(sender)! - 1;
      if (left === 0) open.delete(sender);
      else open.set(sender, left);
    });
  });
}

/** Whose share a connection counts against: its IPv4 address or IPv6 /64; none for a trusted proxy. */
function senderOf(address: string, trustedProxies: readonly IpRange[]): string | undefined {
  const ip = parseIp(address);
  if (!ip) return address;
  if (ipAllowed(ip, trustedProxies)) return undefined;
  return ip.version === 4 ? `4:${ip.value}` : `6:${ip.value >> 64n}`;
}

function route(probes: HttpRoutes, req: http.IncomingMessage, res: http.ServerResponse): void {
  const send = (code: number, body: string, type = 'application/json') => {
    res.writeHead(code, { 'content-type': type });
    res.end(body);
  };
  let url: URL;
  try {
    url = new URL(req.url ?? '/', 'http://localhost');
  } catch {
    // A request target URL cannot parse must be answered, not thrown: a throw here would end the process.
    return send(400, '{"error":"malformed request target"}');
  }
  const webhook = req.method === 'POST' && probes.webhooks ? WEBHOOK_PATH.exec(url.pathname) : null;
  if (webhook) return handleWebhook(req, res, webhook, probes.webhooks!, probes.logger, probes.trustedProxies);
  if (req.method === 'GET' && url.pathname === '/healthz') return send(200, '{"status":"ok"}');
  if (req.method === 'GET' && url.pathname === '/readyz') {
    probes.ready().then(
      (ok) => send(ok ? 200 : 503, JSON.stringify({ status: ok ? 'ready' : 'not ready', ...probes.detail?.() })),
      () => send(503, '{"status":"not ready"}'),
    );
    return;
  }
  if (req.method === 'GET' && url.pathname === '/metrics') {
    probes.metrics.metrics().then(
      (text) => send(200, text, probes.metrics.contentType),
      () => send(500, '{"error":"metrics unavailable"}'),
    );
    return;
  }
  // The path is the caller's: echoed only in part.
  send(404, JSON.stringify({ error: `no route for ${req.method} ${url.pathname.slice(0, 64)}` }));
}

export function listenHttp(server: http.Server, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

export function closeHttp(server: http.Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeIdleConnections();
  });
}
