import type { IncomingMessage, ServerResponse } from 'node:http';
import { withApiFault } from '../../kit/emulator/faults';
import { parseBody, readBody, sendHtml, sendJson } from '../../kit/emulator/http-io';
import { matchRoute, type Route } from '../../kit/emulator/router';
import { mountedPath } from '../../kit/emulator/server';
import { API, type ApiHandler } from './api-request';
import { authenticate, issueToken } from './auth';
import { runDue } from './billing-engine';
import type { EmulatorContext } from './context';
import { controlRoutes } from './controls';
import { customerRoutes } from './customer-routes';
import { membershipRoutes } from './membership-routes';
import { page } from './pages';
import { ProblemError, problemReply } from './problems';
import { sessionRoutes } from './session-routes';

const API_ROUTES: readonly Route<ApiHandler>[] = [...customerRoutes, ...membershipRoutes, ...sessionRoutes];
const AUTH_PATH = `${API}/auth`;

interface Reply {
  status: number;
  body: unknown;
}

/**
 * The emulator's request handler: Paytiko's API under /api/subscriptions/v1, test controls under /__emulator, the
 * hosted pages; all below `basePath` on a shared server. Due work runs before each request and again after it (so
 * a proration charge follows its answer at once); the state is kept on disk after every request.
 */
export function requestHandler(ctx: EmulatorContext, signal: AbortSignal, basePath: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = mountedPath(req.url ?? '/', basePath);
    if (path === undefined) {
      send(res, problemReply(new ProblemError(400, 'The path is not a valid URL path')));
      return;
    }
    runDue(ctx);
    const handled = path.startsWith('/__emulator/')
      ? handleControl(ctx, req, res, path)
      : path.startsWith('/api/')
        ? handleApi(ctx, req, res, path, signal)
        : Promise.resolve(handlePage(ctx, req, res, path));
    handled
      .catch((error: unknown) => {
        if (!res.headersSent) send(res, problemReply(error));
      })
      .finally(() => {
        runDue(ctx);
        ctx.changed();
      });
  };
}

function send(res: ServerResponse, reply: { status: number; body: unknown }): void {
  const problem = reply.status >= 400;
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    'Content-Type': problem ? 'application/problem+json' : 'application/json',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

async function handleControl(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, path: string) {
  const method = req.method ?? 'GET';
  try {
    const found = matchRoute(controlRoutes, method, path);
    if (found.kind !== 'found') {
      req.resume();
      throw new ProblemError(found.kind === 'not-found' ? 404 : 405, `No emulator control ${method} ${path}`);
    }
    const body = parseBody(await readBody(req));
    sendJson(res, 200, found.handler({ ctx, params: found.params, body }) ?? {});
  } catch (error) {
    send(res, problemReply(error));
  }
}

function handlePage(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, path: string): void {
  req.resume();
  const reply = page(ctx, req.method ?? 'GET', path);
  if (!reply) send(res, problemReply(new ProblemError(404, `Nothing at ${path.slice(0, 64)}`)));
  else if ('redirect' in reply) {
    res.writeHead(303, { Location: reply.redirect, 'Content-Length': '0' });
    res.end();
  } else sendHtml(res, reply.status, reply.html);
}

// Faults (kit) come first, as an outage in front of Paytiko would; an `after` fault loses an answer whose effect
// happened (the document's idempotent creates are what make that safe to retry).
async function handleApi(
  ctx: EmulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  signal: AbortSignal,
): Promise<void> {
  await withApiFault<Reply>({
    faults: ctx.apiFaults,
    pathAndQuery: req.url ?? '/',
    signal,
    discardBody: () => req.resume(),
    perform: () => performApi(ctx, req, path),
    faultReply: (status) => ({ status, body: { type: 'about:blank', title: 'Emulator fault', status } }),
    send: (reply) => send(res, reply),
  });
}

async function performApi(ctx: EmulatorContext, req: IncomingMessage, path: string): Promise<Reply> {
  const method = req.method ?? 'GET';
  try {
    const rawBody = await readBody(req);
    if (path === AUTH_PATH && method === 'POST') return { status: 200, body: issueToken(ctx, parseBody(rawBody)) };
    const merchant = authenticate(ctx, req.headers);
    const found = matchRoute(API_ROUTES, method, path);
    if (found.kind === 'method-not-allowed') throw new ProblemError(405, `${method} is not allowed on ${path}`);
    if (found.kind === 'not-found') throw new ProblemError(404, `No endpoint ${method} ${path.slice(0, 100)}`);
    const body = method === 'GET' ? {} : parseBody(rawBody);
    return found.handler({ ctx, merchant, params: found.params, body });
  } catch (error) {
    return problemReply(error);
  }
}
