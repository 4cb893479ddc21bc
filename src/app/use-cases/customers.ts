import { Address, Customer, normalizeEmail } from '../../domain/customer';
import { alreadyExists, DomainError, notFound } from '../../domain/errors';
import { newId } from '../../domain/ids';
import type { Storefront } from '../../domain/storefront';
import { Validator } from '../../domain/validation';
import type { Clock } from '../../ports/clock.port';
import type { TenantDirectory } from '../../ports/tenant-directory.port';
import type { Repositories, UnitOfWork } from '../../ports/store.port';
import type { CallContext } from '../call-context';
import { pageOf, readPage } from './pagination';
import { recordChange } from '../engine/record-change';
import type { ProviderGateway } from '../providers/provider-gateway';
import { customerDetails } from './subscription-lookup';

export interface CreateCustomerInput {
  storefrontId: string;
  externalRef: string;
  email: string;
  name: string;
  phone: string;
  country: string;
  address?: Address;
}

/** Fields left undefined are unchanged. */
export interface UpdateCustomerInput {
  customerId: string;
  externalRef?: string;
  email?: string;
  name?: string;
  phone?: string;
  country?: string;
  address?: Address;
}

/** Customers of a storefront. Creation is idempotent per storefront + email. */
export class CustomerUseCases {
  constructor(
    private readonly uow: UnitOfWork,
    private readonly clock: Clock,
    /** Reaches the providers that know a customer, when it changes. */
    private readonly gateway: ProviderGateway,
    /** Which tenant owns a storefront (cached: see `create`). */
    private readonly storefronts: TenantDirectory,
  ) {}

  async create(input: CreateCustomerInput, ctx: CallContext): Promise<{ customer: Customer; created: boolean }> {
    const v = new Validator().required('storefront_id', input.storefrontId).email('email', input.email);
    validateProfile(v, input);
    v.check();

    // Storefronts are never deleted and never change tenant, so a cached answer is as good as the row.
    const tenantId = await this.storefronts.tenantOf('storefront', input.storefrontId);
    if (!tenantId) throw notFound('storefront', input.storefrontId, 'storefront_id');
    const storefront = { id: input.storefrontId, tenantId };
    const now = this.clock.now();
    const customer: Customer = {
      id: newId('cus'),
      storefrontId: storefront.id,
      externalRef: input.externalRef.trim(),
      email: input.email.trim(),
      name: input.name.trim(),
      phone: input.phone,
      country: input.country,
      address: input.address,
      providerRefs: {},
      version: 1,
      createdAt: now,
      updatedAt: now,
    };
    // The common case, a new email, is one statement: the customer, its event, audit row and the call's response.
    const created = await this.uow.insertCustomer(
      customer,
      async (repos) => {
        await this.recordChange(repos, storefront, customer, 'billing.customer.created', 'CreateCustomer', ctx);
        return { customer, created: true };
      },
      ctx,
    );
    if (created.inserted) return created.value;
    // The email was taken (a repeat, or a concurrent create the unique index let in first): that customer answers.
    return this.uow.transaction(
      async (repos) => ({ customer: (await this.existing(repos, input))!, created: false }),
      ctx,
    );
  }

  async get(customerId: string): Promise<Customer> {
    return this.load(this.uow.reads, customerId);
  }

  async update(input: UpdateCustomerInput, ctx: CallContext): Promise<Customer> {
    const v = new Validator();
    if (input.email !== undefined) v.email('email', input.email);
    validateProfile(v, input);
    v.check();

    for (let attempt = 1; ; attempt++) {
      const written = await this.updateOnce(input, ctx, attempt);
      if (written) return written;
      if (attempt >= UPDATE_ATTEMPTS) {
        throw new DomainError(
          'ABORTED',
          `customer '${input.customerId}' changed while its providers were updated; retry`,
        );
      }
    }
  }

  /**
   * One pass of UpdateCustomer: read, check, tell the providers, write. Undefined when the customer changed meanwhile
   * (another update, a provider reference learnt at checkout): what the providers were sent is then no longer the
   * whole story, so the caller's pass is redone from the new version, and the providers told again.
   */
  private async updateOnce(input: UpdateCustomerInput, ctx: CallContext, attempt: number) {
    const current = await this.load(this.uow.reads, input.customerId);
    await this.refuseEmailClash(this.uow.reads, current, input.email);
    const next: Customer = {
      ...current,
      externalRef: input.externalRef?.trim() ?? current.externalRef,
      email: input.email?.trim() ?? current.email,
      name: input.name?.trim() ?? current.name,
      phone: input.phone ?? current.phone,
      country: input.country ?? current.country,
      address: input.address ?? current.address,
      version: current.version + 1,
    };
    const storefront = await this.storefront(this.uow.reads, next.storefrontId);
    // Every local check passed; the providers are told before anything is written, with no transaction open and
    // no row locked while they answer: a provider refusing the change (its own rules) leaves ours as it was.
    // A pass redone sends other details, so not under the idempotency key of the first (a provider would replay it).
    const key = ctx.idempotencyKey && attempt > 1 ? `${ctx.idempotencyKey}.${attempt}` : ctx.idempotencyKey;
    await this.sendToProviders(storefront, next, { ...ctx, idempotencyKey: key });

    return this.uow.transaction(async (repos): Promise<Customer | undefined> => {
      const locked = await this.load(repos, input.customerId, true);
      if (locked.version !== current.version || !sameRefs(locked.providerRefs, current.providerRefs)) return undefined;
      await this.refuseEmailClash(repos, locked, input.email);
      const written = { ...next, updatedAt: this.clock.now() };
      await repos.customers.update(written);
      await this.recordChange(repos, storefront, written, 'billing.customer.updated', 'UpdateCustomer', ctx);
      return written;
    }, ctx);
  }

  async list(
    filter: { storefrontId: string; email: string; externalRef: string },
    pageSize: number,
    pageToken: string,
  ) {
    new Validator().required('storefront_id', filter.storefrontId).check();
    const page = readPage(pageSize, pageToken);
    const customers = await this.uow.reads.customers.list(
      {
        storefrontId: filter.storefrontId,
        email: filter.email || undefined,
        externalRef: filter.externalRef || undefined,
      },
      { size: page.size + 1, afterId: page.after },
    );
    return pageOf(customers, page, (c) => c.id);
  }

  /**
   * Tells every provider that knows the customer (a reference there) and can update customers what changed, through
   * the storefront's binding to that provider (a past one after a switch). Providers without `updateCustomer` keep
   * what they were first given.
   */
  private async sendToProviders(storefront: Storefront, customer: Customer, ctx: CallContext) {
    for (const [provider, providerRef] of Object.entries(customer.providerRefs)) {
      if (!providerRef || !this.gateway.features(provider)) continue;
      const connection = await this.gateway.connect(this.uow.reads, storefront, provider, ctx);
      const update = connection.optional('updateCustomer');
      if (update) await update(connection.ctx, { ...customerDetails(customer, provider), providerRef });
    }
  }

  /** ALREADY_EXISTS when `email` is new for the customer and another customer of its storefront has it. */
  private async refuseEmailClash(repos: Repositories, customer: Customer, email: string | undefined): Promise<void> {
    if (email === undefined || normalizeEmail(email) === normalizeEmail(customer.email)) return;
    const clash = await repos.customers.findByEmail(customer.storefrontId, email);
    if (clash && clash.id !== customer.id) {
      throw alreadyExists(`email: another customer of storefront '${customer.storefrontId}' has it`);
    }
  }

  /** The customer this create request means, if it exists; a clash on external_ref is ALREADY_EXISTS. */
  private async existing(repos: Repositories, input: CreateCustomerInput): Promise<Customer | undefined> {
    const found = await repos.customers.findByEmail(input.storefrontId, input.email);
    if (found && input.externalRef && found.externalRef && found.externalRef !== input.externalRef.trim()) {
      throw alreadyExists(
        `email: a customer with this email already exists in storefront '${input.storefrontId}' ` +
          `with a different external_ref`,
      );
    }
    return found;
  }

  private async storefront(repos: Repositories, id: string): Promise<Storefront> {
    const storefront = await repos.storefronts.get(id);
    if (!storefront) throw notFound('storefront', id, 'storefront_id');
    return storefront;
  }

  private async load(repos: Repositories, id: string, forUpdate = false): Promise<Customer> {
    const customer = id ? await repos.customers.get(id, { forUpdate }) : undefined;
    if (!customer) throw notFound('customer', id, 'customer_id');
    return customer;
  }

  private async recordChange(
    repos: Pick<Repositories, 'outbox' | 'audit'>,
    storefront: Pick<Storefront, 'id' | 'tenantId'>,
    customer: Customer,
    type: 'billing.customer.created' | 'billing.customer.updated',
    action: string,
    ctx: CallContext,
  ): Promise<void> {
    await recordChange(repos, ctx, {
      events: [
        {
          type,
          key: customer.id,
          aggregateId: customer.id,
          storefrontId: storefront.id,
          tenantId: storefront.tenantId,
          provider: '',
          data: { kind: 'customer', customer },
        },
      ],
      audit: {
        action,
        resourceType: 'customer',
        resourceId: customer.id,
        storefrontId: storefront.id,
        details: { version: customer.version },
      },
    });
  }
}

/** Passes of UpdateCustomer before it answers ABORTED: a change meanwhile is re-read and re-sent twice at most. */
const UPDATE_ATTEMPTS = 3;

function validateProfile(v: Validator, input: Partial<CreateCustomerInput>): void {
  v.maxLength('external_ref', input.externalRef, 200)
    .maxLength('name', input.name, 200)
    .phone('phone', input.phone)
    .country('country', input.country);
  if (input.address) {
    v.country('address.country', input.address.country).maxLength('address.line1', input.address.line1, 200);
  }
}

function sameRefs(a: Record<string, string>, b: Record<string, string>): boolean {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
}
