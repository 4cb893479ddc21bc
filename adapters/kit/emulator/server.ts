import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pathOf, sendJson } from './http-io';

/** Handles one request; `req.url` still carries the mount's base path (signatures cover the path as sent). */
export type RequestHandler = (req: IncomingMessage, res: ServerResponse) => void;

/** Where one emulator is served: a base path on a server (`''` for the root) and the URL clients use. */
export interface EmulatorMount {
  /** e.g. `http://127.0.0.1:8091/subotiz`; what a binding's base_url points at. */
  baseUrl: string;
  /** e.g. `/subotiz`, or `''` when the emulator owns the whole server. */
  basePath: string;
  port: number;
  /** Serves `handler` under the base path (replacing an earlier one). */
  attach(handler: RequestHandler): void;
  /** Stops serving it (requests answer 404). */
  detach(): void;
}

/**
 * The request's path below the mount's base path (`/` for the base path itself); undefined when the URL's path is
 * not a valid URL path or not below it.
 */
export function mountedPath(url: string, basePath: string): string | undefined {
  const path = pathOf(url);
  if (path === undefined || basePath === '') return path;
  if (path === basePath) return '/';
  return path.startsWith(`${basePath}/`) ? path.slice(basePath.length) : undefined;
}

/** One HTTP server that can serve several emulators, each under its own base path. */
export interface EmulatorServer {
  url: string;
  port: number;
  /** A base path on this server: `/<provider>`, or `''` for the root. */
  mount(basePath: string): EmulatorMount;
  close(): Promise<void>;
}

/** Starts an HTTP server for emulators on `host:port` (0 = any free port). */
export async function startEmulatorServer(options: { host?: string; port?: number }): Promise<EmulatorServer> {
  const handlers = new Map<string, RequestHandler>();
  const server = http.createServer((req, res) => {
    const path = pathOf(req.url ?? '/') ?? '/';
    const handler = handlerFor(handlers, path);
    if (handler) handler(req, res);
    else
      sendJson(res, 404, {
        code: 'notFound',
        message: `path: no emulator at ${path.slice(0, 64)}`,
        mounts: [...handlers.keys()],
      });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const url = `http://${urlHost(host)}:${port}`;
  return {
    url,
    port,
    mount(basePath) {
      if (basePath !== '' && !/^(\/[a-z0-9][a-z0-9_-]*)+$/.test(basePath)) {
        throw new Error(`emulator mount '${basePath}' must be '' or /<name>`);
      }
      return {
        baseUrl: `${url}${basePath}`,
        basePath,
        port,
        attach: (handler) => void handlers.set(basePath, handler),
        detach: () => void handlers.delete(basePath),
      };
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

// The longest base path that is the request path or a prefix of it at a segment boundary.
function handlerFor(handlers: Map<string, RequestHandler>, path: string): RequestHandler | undefined {
  let best: string | undefined;
  for (const basePath of handlers.keys()) {
    const matches = basePath === '' || path === basePath || path.startsWith(`${basePath}/`);
    if (matches && (best === undefined || basePath.length > best.length)) best = basePath;
  }
  return best === undefined ? undefined : handlers.get(best);
}

// A wildcard bind address is not somewhere a client can connect to; loopback is.
function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '::' || host === '') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}
