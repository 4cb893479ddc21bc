import type { IncomingMessage, ServerResponse } from 'node:http';
import { withApiFault } from '../../kit/emulator/faults';
import { readBody, sendHtml, sendJson } from '../../kit/emulator/http-io';
import { matchRoute, type Route } from '../../kit/emulator/router';
import { mountedPath } from '../../kit/emulator/server';
import type { ApiHandler } from './api-request';
import { authenticate, header } from './auth';
import { runDue } from './billing-engine';
import type { EmulatorContext } from './context';
import { controlRoutes } from './controls';
import { errorReply, type StoredReply, successBody } from './envelopes';
import { ApiError, codeForStatus, invalidParameter } from './errors';
import { checkoutPage, merchantPage, portalPage } from './pages';
import { paymentRoutes } from './payment-routes';
import { portalRoutes } from './portal-routes';
import { sessionRoutes } from './session-routes';
import { subscriptionRoutes } from './subscription-routes';
import { tradeRoutes } from './trade-routes';
import { parseBody } from './validation';

const API_ROUTES: readonly Route<ApiHandler>[] = [
  ...sessionRoutes,
  ...subscriptionRoutes,
  ...tradeRoutes,
  ...paymentRoutes,
  ...portalRoutes,
];
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * The emulator's request handler: Subotiz's API under /api, test controls under /__emulator, two tiny pages; all
 * below `basePath` when it is mounted on a shared server. Work that fell due by wall time runs first, and the state
 * is kept on disk after every request.
 */
export function requestHandler(ctx: EmulatorContext, signal: AbortSignal, basePath: string) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const path = mountedPath(req.url ?? '/', basePath);
    if (path === undefined) {
      sendJson(res, 400, errorReply(invalidParameter('path', 'is not a valid URL path')).body);
      return;
    }
    runDue(ctx);
    const handled = path.startsWith('/__emulator/')
      ? handleControl(ctx, req, res, path)
      : path.startsWith('/api/')
        ? handleApi(ctx, req, res, path, signal)
        : Promise.resolve(handlePage(ctx, res, path));
    handled
      .catch((error: unknown) => {
        // Only a stop mid-delay or a broken socket lands here; answer if the socket still can.
        if (!res.headersSent) sendJson(res, 500, errorReply(error).body);
      })
      .finally(() => ctx.changed());
  };
}

async function handleControl(ctx: EmulatorContext, req: IncomingMessage, res: ServerResponse, path: string) {
  let reply: StoredReply;
  try {
    const method = req.method ?? 'GET';
    const found = matchRoute(controlRoutes, method, path);
    if (found.kind === 'method-not-allowed') {
      req.resume();
      throw new ApiError(
        405,
        'invalidParameter',
        `method: ${method} not allowed on ${path} (${found.allowed.join(', ')})`,
      );
    }
    if (found.kind === 'not-found') throw new ApiError(404, 'notFound', `path: no emulator control ${method} ${path}`);
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
  if (path === '/merchant/return' || path === '/merchant/cancel') {
    // The demo merchant's dashboard default pages: where the buyer lands when the session named none.
    sendHtml(res, 200, merchantPage(path === '/merchant/return'));
    return;
  }
  const page = checkout?.[1] ? checkoutPage(ctx, checkout[1]) : portal?.[1] ? portalPage(ctx, portal[1]) : undefined;
  if (page) sendHtml(res, page.status, page.html);
  else sendJson(res, 404, errorReply(new ApiError(404, 'notFound', `path: nothing at ${path.slice(0, 64)}`)).body);
}

// Faults (kit) come first, as an outage in front of Subotiz would; an `after` fault loses an answer whose effect
// happened, which is exactly what Request-Id replay exists for.
async function handleApi(
  ctx: EmulatorContext,
  req: IncomingMessage,
  res: ServerResponse,
  path: string,
  signal: AbortSignal,
): Promise<void> {
  const pathAndQuery = req.url ?? '/';
  await withApiFault<StoredReply>({
    faults: ctx.apiFaults,
    pathAndQuery,
    signal,
    discardBody: () => req.resume(),
    perform: () => performApi(ctx, req, path, pathAndQuery),
    faultReply: (status) => ({
      status,
      body: JSON.stringify({ code: codeForStatus(status), message: `emulator fault: HTTP ${status}` }),
    }),
    send: (reply) => sendJson(res, reply.status, reply.body),
  });
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
    // The signature covers the path as the caller sent it, mount path included (a real base URL has none).
    const merchant = authenticate(ctx.state, { method, pathAndQuery, headers: req.headers, rawBody });
    const requestId = header(req.headers, 'request-id');
    if (!requestId || !UUID.test(requestId)) throw invalidParameter('Request-Id', 'header must be a UUID');
    const replayKey =
      method === 'POST' && ctx.requestIdReplay.enabled ? `${merchant.accessNo}\n${requestId}` : undefined;
    const stored = replayKey === undefined ? undefined : ctx.state.replies.get(replayKey);
    if (stored) return stored;
    let reply: StoredReply;
    try {
      const found = matchRoute(API_ROUTES, method, path);
      if (found.kind === 'method-not-allowed') {
        throw new ApiError(
          405,
          'invalidParameter',
          `method: ${method} not allowed on ${path} (${found.allowed.join(', ')})`,
        );
      }
      if (found.kind === 'not-found') throw new ApiError(404, 'notFound', `path: no endpoint ${method} ${path}`);
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
