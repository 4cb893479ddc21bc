/** The objects a request can name by id, each owned by one storefront and so by one tenant. */
export type ScopedKind =
  | 'storefront'
  | 'plan'
  | 'customer'
  | 'subscription'
  | 'payment'
  | 'refund'
  | 'invoice'
  | 'dead letter'
  | 'checkout session';

/** Which tenant owns an object; the tenant-scope interceptor asks it before a handler runs. */
export interface TenantDirectory {
  /** The owning tenant; undefined when no such object exists. An object whose owner is unknown answers ''. */
  tenantOf(kind: ScopedKind, id: string): Promise<string | undefined>;
}
