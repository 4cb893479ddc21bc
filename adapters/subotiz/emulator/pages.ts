import type { EmulatorContext } from './context';
import { formatAmount } from './money';

const escape = (text: string) =>
  text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** The hosted checkout page a buyer is redirected to: pay or decline through the emulator's controls. */
export function checkoutPage(ctx: EmulatorContext, sessionId: string): { status: number; html: string } {
  const session = ctx.state.sessions.get(sessionId);
  if (!session) return { status: 404, html: page('Checkout', '<p>No such checkout session.</p>') };
  const amount = `${formatAmount(session.amountMinor, session.currency)} ${session.currency}`;
  const back = JSON.stringify(session.returnUrl ?? '');
  const id = JSON.stringify(session.id);
  // Mounted under /subotiz on the shared server, the controls are too.
  const controls = JSON.stringify(`${new URL(ctx.baseUrl).pathname.replace(/\/$/, '')}/__emulator/sessions/`);
  // An embedded checkout with redirect_on_completion if_required stays on the merchant's page when paid.
  const redirect = session.redirectOnCompletion === 'always' ? back : '""';
  const body =
    `<p>Order <code>${escape(session.orderId)}</code>${session.priceId ? `, price <code>${escape(session.priceId)}</code> × ${session.quantity}` : ''}</p>` +
    `<p>Due now: <strong>${escape(amount)}</strong> — status <strong>${session.status}</strong></p>` +
    (session.status === 'open'
      ? `<button onclick="act('complete')">Pay</button> <button onclick="act('decline')">Decline</button>` +
        `<script>async function act(a){const r=await fetch(${controls}+${id}+'/'+a,{method:'POST'});` +
        `if(r.ok&&a==='complete'&&${redirect})location.href=${redirect};else location.reload();}</script>`
      : '');
  return { status: 200, html: page('Subotiz emulator checkout', body) };
}

/** The customer portal page a portal link opens (valid 30 minutes). */
export function portalPage(ctx: EmulatorContext, token: string): { status: number; html: string } {
  const link = ctx.state.portalLinks.get(token);
  if (!link || link.expiresAt < Date.now()) return { status: 404, html: page('Portal', '<p>Link expired.</p>') };
  return {
    status: 200,
    html: page('Subotiz emulator portal', `<p>Customer <code>${escape(link.customerId)}</code></p>`),
  };
}

/** The page a dashboard default return or cancel URL shows. */
export function merchantPage(paid: boolean): string {
  return page(
    'Back at the merchant',
    paid ? '<p>Thank you: the checkout is complete.</p>' : '<p>Checkout canceled.</p>',
  );
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${escape(title)}</title></head><body><h1>${escape(title)}</h1>${body}</body></html>`;
}
