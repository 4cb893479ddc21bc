import type { EmulatorContext } from './context';
import { completeCheckout, liveSession } from './hosted-checkout';
import { problemReply } from './problems';
import { formatMinorUnits } from '../../kit/currencies';

/** A page answer: HTML, or a redirect. */
export type PageReply = { status: number; html: string } | { redirect: string };

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

const layout = (title: string, body: string) =>
  `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`;

/** The hosted pages: checkout (pay / decline), portal (the customer's memberships), the demo merchant's return page. */
export function page(ctx: EmulatorContext, method: string, path: string): PageReply | undefined {
  if (path === '/merchant/return') {
    return { status: 200, html: layout('Back at the merchant', '<p>The payment page sent you back here.</p>') };
  }
  const checkout = /^\/hosted\/checkout\/([^/]+)(?:\/(pay|decline))?$/.exec(path);
  if (checkout?.[1]) return guarded(() => checkoutPage(ctx, method, checkout[1] ?? '', checkout[2]));
  const portal = /^\/hosted\/portal\/([^/]+)$/.exec(path);
  if (portal?.[1] && method === 'GET') return guarded(() => portalPage(ctx, portal[1] ?? ''));
  return undefined;
}

function checkoutPage(ctx: EmulatorContext, method: string, token: string, action: string | undefined): PageReply {
  if (action === 'pay' || action === 'decline') {
    if (method !== 'POST') return { status: 405, html: layout('Method not allowed', '') };
    const { session, membership } = completeCheckout(ctx, token, action);
    if (action === 'pay' && session.returnUrl) return { redirect: session.returnUrl };
    const text = action === 'pay' ? 'Payment received.' : 'Your card was declined. You may try again.';
    return {
      status: 200,
      html: layout(membership.name, `<p>${text}</p><p><a href="../${escape(token)}">Back</a></p>`),
    };
  }
  const session = liveSession(ctx, token, 'checkout');
  const m = session.membershipKey === null ? undefined : ctx.state.memberships.get(session.membershipKey);
  if (!m) return { status: 404, html: layout('Not found', '') };
  const amount = `${formatMinorUnits(m.totalAmount, m.currency)} ${m.currency}`;
  const form = (a: string, label: string) =>
    `<form method="post" action="${escape(token)}/${a}"><button type="submit" name="${a}">${label}</button></form>`;
  const body =
    m.status === 'Incomplete'
      ? `<p>${escape(amount)} every ${m.intervalCount} ${m.intervalType}</p>${form('pay', 'Pay')}${form('decline', 'Decline')}`
      : `<p>This membership is ${escape(m.status)}.</p>`;
  return { status: 200, html: layout(m.name, body) };
}

function portalPage(ctx: EmulatorContext, token: string): PageReply {
  const session = liveSession(ctx, token, 'portal');
  const rows = [...ctx.state.memberships.values()]
    .filter((m) => m.customerKey === session.customerKey)
    .map((m) => `<li>${escape(m.name)}: ${escape(m.status)}</li>`)
    .join('');
  const back = session.returnUrl ? `<p><a href="${escape(session.returnUrl)}">Back to the merchant</a></p>` : '';
  return { status: 200, html: layout('Your memberships', `<ul>${rows}</ul>${back}`) };
}

function guarded(render: () => PageReply): PageReply {
  try {
    return render();
  } catch (error) {
    const reply = problemReply(error);
    return { status: reply.status, html: layout(String(reply.body.title), '') };
  }
}
