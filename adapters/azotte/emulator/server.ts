import type { IncomingMessage, ServerResponse } from 'node:http';
import { withApiFault } from '../../kit/emulator/faults';
import { parseBody, readBody, sendHtml, sendJson } from '../../kit/emulator/http-io';
import { matchRoute, type Route } from '../../kit/emulator/router';
import { mountedPath } from '../../kit/emulator/server';
import { AzotteError, type Reply, errorReply } from './answers';
import type { ApiHandler } from './api-request';
import { Unauthorized, authenticate } from './auth';
import { runDue } from './billing-engine';
import { checkoutRoutes } from './checkout-routes';
import type { EmulatorContext } from './context';
import { controlRoutes } from './controls';
import { customerRoutes } from './customer-routes';
import { prefixedId } from './ids';
import { offerRoutes } from './offer-routes';
import { subscriptionRoutes } from './subscription-routes';
import { answeredPage, challengePage, decideChallenge } from './three-ds';

const API_ROUTES: readonly Route<ApiHandler>[] = [
  ...customerRoutes,
  ...offerRoutes,
  ...checkoutRoutes,
  ...subscriptionRoutes,
];
/** Azotte's answers are JSON under this content type (item 3). */
const CONTENT_TYPE = 'application/clientOutput+Json';
const UNAUTHORIZED: Reply = { status: 401, body: '' };

/**
 * The emulator's request handler: the C2A API under /api/v1/c2a, test controls under /__emulator, the 3-D Secure
 * page under /3ds; all below `basePath` on a shared server. Due work runs before each request and after it; the
 * state is kept on disk after every request.
 */
export function requestHandler(ctx: EmulatorContext, signal: AbortSignal, basePath: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = mountedPath(req.url ?? '/', basePath);
    if (path === undefined) {
      req.resume();
      send(res, errorReply(new AzotteError('BAD_REQUEST', 'The path is not a valid URL path')));
      return;
    }
    runDue(ctx);
    const handled = path.startsWith('/__emulator/')
      ? handleControl(ctx, req, res, path)
      : path.startsWith('/api/')
        ? handleApi(ctx, req, res, path, signal)
        : handlePage(ctx, req, res, path);
    handled
      .catch((error: unknown) => {
        if (!res.headersSent) send(res, errorReply(error));
      })
      .finally(() => {
        runDue(ctx);
        ctx.changed();
      });
  };
}

function send(res: ServerResponse, reply: Reply): void {
  if (reply.status === 401) {
    // Item 4: a refused key or tenant is a bare 401, no envelope.
    res.writeHead(401, { 'Content-Length': '0' });
    res.end();
    return;
  }
  const text = JSON.stringify(reply.body);
  res.writeHead(reply.status, {
    ...reply.headers,
    'Content-Type': CONTENT_TYPE,
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
      sendJson(res, found.kind === 'not-found' ? 404 : 405, { error: `No emulator control ${method} ${path}` });
      return;
    }
    const body = parseBody(await readBody(req));
    sendJson(res, 200, found.handler({ ctx, params: found.params, body }) ?? {});
  } catch (error) {
    const status =
      typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 500;
    sendJson(res, status, { error: (error as Error).message });
  }
}

// The 3-D Secure page (item 46): GET shows it, POST (form `outcome=pass|fail`) answers it.
async function handlePage(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, path: string) {
  const match = /^\/3ds\/([^/]+)$/.exec(path);
  const id = match ? decodeURIComponent(match[1] ?? '') : undefined;
  try {
    if (id === undefined) throw new AzotteError('NOT_FOUND', `Nothing at ${path.slice(0, 64)}`);
    if (req.method === 'POST') {
      const form = new URLSearchParams(await readBody(req));
      const checkout = decideChallenge(ctx, id, form.get('outcome'));
      sendHtml(res, 200, answeredPage(checkout));
      return;
    }
    req.resume();
    sendHtml(res, 200, challengePage(ctx, id));
  } catch (error) {
    const status =
      typeof (error as { status?: unknown }).status === 'number' ? (error as { status: number }).status : 404;
    sendHtml(res, status, `<!doctype html><p>${(error as Error).message.replace(/[<>&]/g, '')}</p>`);
  }
}

// Kit faults come first, as an outage in front of Azotte would; then auth, then the messageCode faults (item 48).
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
    faultReply: (status) => ({
      status,
      body: { status: { messageCode: 'INTERNAL_SERVER_ERROR', message: 'emulator fault' } },
    }),
    send: (reply) => send(res, reply),
  });
}

async function performApi(ctx: EmulatorContext, req: IncomingMessage, path: string): Promise<Reply> {
  const method = req.method ?? 'GET';
  try {
    const rawBody = await readBody(req);
    const tenant = authenticate(ctx.state, req.headers);
    const fault = ctx.messageCodeFaults.take(req.url ?? '/');
    if (fault) return errorReply(fault);
    const found = matchRoute(API_ROUTES, method, path);
    if (found.kind !== 'found') {
      const status = found.kind === 'not-found' ? 404 : 405;
      return {
        status,
        body: { status: { messageCode: 'NOT_FOUND', message: `No endpoint ${method} ${path.slice(0, 100)}` } },
      };
    }
    const body = method === 'GET' ? {} : parseBody(rawBody);
    const query = new URL(req.url ?? '/', 'http://emulator').searchParams;
    // Events made by this call share its id as their correlationId unless a checkout's applies (item 35).
    const cause = {
      actor: { type: 'C2A' as const, id: tenant.tenant },
      correlationId: prefixedId('req_', ctx.state.now),
    };
    return ctx.state.because(cause, () => found.handler({ ctx, tenant, params: found.params, query, body }));
  } catch (error) {
    if (error instanceof Unauthorized) return UNAUTHORIZED;
    return errorReply(error);
  }
}
