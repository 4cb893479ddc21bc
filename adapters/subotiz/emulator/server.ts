import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ApiHandler } from './api-request';
import { authenticate, header } from './auth';
import type { EmulatorContext } from './context';
import { controlRoutes } from './controls';
import { ApiError, codeForStatus, invalidParameter } from './errors';
import type { ApiFault } from './faults';
import { errorReply, readBody, sendHtml, sendJson, successBody } from './http-io';
import { checkoutPage, portalPage } from './pages';
import { paymentRoutes } from './payment-routes';
import { portalRoutes } from './portal-routes';
import { findRoute, type Route } from './router';
import { sessionRoutes } from './session-routes';
import type { StoredReply } from './state';
import { subscriptionRoutes } from './subscription-routes';
import { parseBody } from './validation';

const API_ROUTES: readonly Route<ApiHandler>[] = [
  ...sessionRoutes,
  ...subscriptionRoutes,
  ...paymentRoutes,
  ...portalRoutes,
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The emulator's request listener: Subotiz's API under /api, test controls under /__emulator, two tiny pages. */
export function requestListener(ctx: EmulatorContext, signal: AbortSignal) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = pathOf(req.url ?? '/');
    if (path === undefined) {
      sendJson(res, 400, errorReply(invalidParameter('path', 'is not a valid URL path')).body);
      return;
    }
    const handled = path.startsWith('/__emulator/')
      ? handleControl(ctx, req, res, path)
      : path.startsWith('/api/')
        ? handleApi(ctx, req, res, path, signal)
        : Promise.resolve(handlePage(ctx, res, path));
    handled.catch((error: unknown) => {
      // Only a stop mid-delay or a broken socket lands here; answer if the socket still can.
      if (!res.headersSent) sendJson(res, 500, errorReply(error).body);
    });
  };
}

function pathOf(url: string): string | undefined {
  try {
    return new URL(url, 'http://emulator').pathname;
  } catch {
    return undefined;
  }
}

async function handleControl(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, path: string) {
  let reply: StoredReply;
  try {
    const found = findRoute(controlRoutes, req.method ?? 'GET', path);
    if (!found) throw new ApiError(404, 'notFound', `path: no emulator control ${req.method} ${path}`);
    const body = parseBody(await readBody(req));
    reply = { status: 200, body: JSON.stringify(found.handler({ ctx, params: found.params, body })) };
  } catch (error) {
    reply = errorReply(error);
  }
  sendJson(res, reply.status, reply.body);
}

function handlePage(ctx: EmulatorContext, res: ServerResponse, path: string): void {
  const checkout = /^\/checkout\/([^/]+)$/.exec(path);
  const portal = /^\/portal\/([^/]+)$/.exec(path);
  const page = checkout?.[1] ? checkoutPage(ctx, checkout[1]) : portal?.[1] ? portalPage(ctx, portal[1]) : undefined;
  if (page) sendHtml(res, page.status, page.html);
  else sendJson(res, 404, errorReply(new ApiError(404, 'notFound', `path: nothing at ${path}`)).body);
}

// Faults come first, as an outage in front of Subotiz would; an `after` fault lets the request happen and then
// loses its answer, which is exactly what Request-Id replay exists for.
async function handleApi(
  ctx: EmulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  signal: AbortSignal,
): Promise<void> {
  const pathAndQuery = req.url ?? '/';
  const fault = ctx.apiFaults.take(pathAndQuery);
  const delay = () => (fault && fault.delayMs > 0 ? sleep(fault.delayMs, undefined, { signal }) : undefined);
  // A 2xx "fault" is only a delay: a slow but real answer.
  const failing = fault !== undefined && fault.status >= 300;
  if (fault && !fault.after) {
    await delay();
    if (failing) {
      req.resume();
      sendFault(res, fault);
      return;
    }
  }
  const reply = await performApi(ctx, req, path, pathAndQuery);
  if (fault?.after) {
    await delay();
    if (failing) {
      sendFault(res, fault);
      return;
    }
  }
  sendJson(res, reply.status, reply.body);
}

async function performApi(
  ctx: EmulatorContext,
  req: IncomingMessage,
  path: string,
  pathAndQuery: string,
): Promise<StoredReply> {
  const method = req.method ?? 'GET';
  try {
    const rawBody = await readBody(req);
    const merchant = authenticate(ctx.state, { method, pathAndQuery, headers: req.headers, rawBody });
    const requestId = header(req.headers, 'request-id');
    if (!requestId || !UUID.test(requestId)) throw invalidParameter('Request-Id', 'header must be a UUID');
    const replayKey = method === 'POST' ? `${merchant.accessNo}\n${requestId}` : undefined;
    const stored = replayKey === undefined ? undefined : ctx.state.replies.get(replayKey);
    if (stored) return stored;
    let reply: StoredReply;
    try {
      const found = findRoute(API_ROUTES, method, path);
      if (!found) throw new ApiError(404, 'notFound', `path: no endpoint ${method} ${path}`);
      const body = method === 'POST' ? parseBody(rawBody) : {};
      const query = new URL(pathAndQuery, 'http://emulator').searchParams;
      const data = found.handler({ ctx, merchant, params: found.params, query, body });
      reply = { status: 200, body: successBody(data) };
    } catch (error) {
      reply = errorReply(error);
    }
    // Answers that depend only on the request are kept, errors included; a 500 is not, so a retry can succeed.
    if (replayKey !== undefined && reply.status < 500) ctx.state.replies.set(replayKey, reply);
    return reply;
  } catch (error) {
    return errorReply(error);
  }
}

function sendFault(res: ServerResponse, fault: ApiFault): void {
  sendJson(res, fault.status, { code: codeForStatus(fault.status), message: `emulator fault: HTTP ${fault.status}` });
}
