/**
 * A time a provider reported, taken no later than our `now`: a provider whose clock runs ahead of ours must not date
 * what it reports (a grant, a revoke, an observation) into our future.
 */
export function notAfter(at: Date, now: Date): Date {
  return at.getTime() <= now.getTime() ? at : now;
}
