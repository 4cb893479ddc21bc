import http from 'node:http';
import type { Registry } from 'prom-client';
import { handleWebhook, WEBHOOK_PATH, WebhookReceiver } from './webhook-route';

export interface HttpProbes {
  /** Ready = the gRPC server is serving and the database answered its last ping; must answer without waiting on it. */
  ready(): Promise<boolean>;
  metrics: Registry;
}

export interface HttpRoutes extends HttpProbes {
  /** Provider webhooks; absent → 404. */
  webhooks?: WebhookReceiver;
}

/** The HTTP listener: provider webhooks (POST /webhooks/{provider}/{storefrontId}), liveness, readiness, metrics. */
export function createHttpServer(probes: HttpRoutes): http.Server {
  return http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const send = (code: number, body: string, type = 'application/json') => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    const webhook = req.method === 'POST' && probes.webhooks ? WEBHOOK_PATH.exec(url.pathname) : null;
    if (webhook) return handleWebhook(req, res, webhook, probes.webhooks!);
    if (req.method === 'GET' && url.pathname === '/healthz') return send(200, '{"status":"ok"}');
    if (req.method === 'GET' && url.pathname === '/readyz') {
      probes.ready().then(
        (ok) => send(ok ? 200 : 503, JSON.stringify({ status: ok ? 'ready' : 'not ready' })),
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
    send(404, JSON.stringify({ error: `no route for ${req.method} ${url.pathname}` }));
  });
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
