import { notFound } from '../../domain/errors';
import type { Entitlement } from '../../domain/entitlement';
import { Validator } from '../../domain/validation';
import type { Clock } from '../../ports/clock.port';
import type { UnitOfWork } from '../../ports/store.port';

/** Answers "may this customer use this feature?" from the entitlements subscriptions grant. */
export class EntitlementUseCases {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
  ) {}

  async check(customerId: string, featureKey: string): Promise<{ granted: boolean; entitlement?: Entitlement }> {
    new Validator().required('customer_id', customerId).required('feature_key', featureKey).check();
    await this.customer(customerId);
    const active = await this.uow.reads.entitlements.listOfCustomer(customerId, {
      featureKey,
      activeAt: this.clock.now(),
    });
    // Of several grants, the one lasting longest answers (open-ended first).
    const best = active.sort(
      (a, b) => (b.activeUntil?.getTime() ?? Infinity) - (a.activeUntil?.getTime() ?? Infinity),
    )[0];
    return { granted: best !== undefined, entitlement: best };
  }

  async list(customerId: string, includeInactive: boolean): Promise<Entitlement[]> {
    await this.customer(customerId);
    return this.uow.reads.entitlements.listOfCustomer(
      customerId,
      includeInactive ? {} : { activeAt: this.clock.now() },
    );
  }

  private async customer(id: string): Promise<void> {
    const customer = id ? await this.uow.reads.customers.get(id) : undefined;
    if (!customer) throw notFound('customer', id, 'customer_id');
  }
}
