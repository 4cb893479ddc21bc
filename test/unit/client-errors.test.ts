import { Metadata, status } from '@grpc/grpc-js';
import {
  AbortedError,
  BillingError,
  InvalidArgumentError,
  isMutation,
  toBillingError,
  UnavailableError,
} from '../../packages/client/src/errors';
import * as catalog from '../../src/gen/billing/v1/catalog';
import * as customer from '../../src/gen/billing/v1/customer';
import * as entitlement from '../../src/gen/billing/v1/entitlement';
import * as event from '../../src/gen/billing/v1/event';
import * as payment from '../../src/gen/billing/v1/payment';
import * as storefront from '../../src/gen/billing/v1/storefront';
import * as subscription from '../../src/gen/billing/v1/subscription';
import { catalogHandlers } from '../../src/grpc/handlers/catalog-handlers';
import { customerHandlers } from '../../src/grpc/handlers/customer-handlers';
import { entitlementHandlers } from '../../src/grpc/handlers/entitlement-handlers';
import { eventHandlers } from '../../src/grpc/handlers/event-handlers';
import { paymentHandlers } from '../../src/grpc/handlers/payment-handlers';
import { storefrontHandlers } from '../../src/grpc/handlers/storefront-handlers';
import { subscriptionHandlers } from '../../src/grpc/handlers/subscription-handlers';

const generated = { catalog, customer, entitlement, event, payment, storefront, subscription };
const { CatalogServiceService } = catalog;
const { CustomerServiceService } = customer;
const { EntitlementServiceService } = entitlement;
const { EventServiceService } = event;
const { PaymentServiceService } = payment;
const { StorefrontServiceService } = storefront;
const { SubscriptionServiceService } = subscription;

const CREATE_CUSTOMER = '/billing.v1.CustomerService/CreateCustomer';
const GET_CUSTOMER = '/billing.v1.CustomerService/GetCustomer';

function trailers(entries: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
}

describe('the client error mapping', () => {
  it('reads the service trailers into a typed error with a one-line message', () => {
    const error = toBillingError(
      {
        code: status.INVALID_ARGUMENT,
        details: 'email: must be a valid email address\nname: too long',
        metadata: trailers({
          'error-code': 'INVALID_ARGUMENT',
          'error-field': 'email',
          'error-rule': 'must be a valid email address',
          'correlation-id': 'corr-1',
        }),
      },
      CREATE_CUSTOMER,
    );
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error).toBeInstanceOf(BillingError);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({
      name: 'InvalidArgumentError',
      status: 'INVALID_ARGUMENT',
      field: 'email',
      rule: 'must be a valid email address',
      errorCode: 'INVALID_ARGUMENT',
      correlationId: 'corr-1',
      method: CREATE_CUSTOMER,
      retryable: false,
    });
    expect(error.message).toBe('INVALID_ARGUMENT: email: must be a valid email address name: too long');
  });

  it('calls UNAVAILABLE retryable for every RPC, ABORTED only for a mutation', () => {
    const unavailable = toBillingError(
      { code: status.UNAVAILABLE, details: 'down', metadata: new Metadata() },
      GET_CUSTOMER,
    );
    expect(unavailable).toBeInstanceOf(UnavailableError);
    expect(unavailable.retryable).toBe(true);

    const abortedWrite = toBillingError(
      { code: status.ABORTED, details: 'in flight', metadata: new Metadata() },
      CREATE_CUSTOMER,
    );
    const abortedRead = toBillingError(
      { code: status.ABORTED, details: 'in flight', metadata: new Metadata() },
      GET_CUSTOMER,
    );
    expect(abortedWrite).toBeInstanceOf(AbortedError);
    expect(abortedWrite.retryable).toBe(true);
    expect(abortedRead.retryable).toBe(false);
  });

  it('leaves a status the service does not use as a plain BillingError', () => {
    const error = toBillingError({ code: status.DATA_LOSS, details: 'lost', metadata: new Metadata() }, GET_CUSTOMER);
    expect(error.constructor).toBe(BillingError);
    expect(error.status).toBe('DATA_LOSS');
    expect(error.field).toBeUndefined();
  });

  it('agrees with the server on every RPC of every generated service: which are reads and which mutations', () => {
    // The server's own table: each handler is declared query(...) or mutation(...). The use cases are never called
    // while the handlers are built, so none are needed here.
    const none = {} as never;
    const servers: Array<[Record<string, { path: string }>, Record<string, { kind: string }>]> = [
      [StorefrontServiceService, storefrontHandlers(none)],
      [CatalogServiceService, catalogHandlers(none)],
      [CustomerServiceService, customerHandlers(none)],
      [SubscriptionServiceService, subscriptionHandlers(none)],
      [PaymentServiceService, paymentHandlers(none)],
      [EntitlementServiceService, entitlementHandlers(none)],
      [EventServiceService, eventHandlers(none, none)],
    ];
    const generatedServices = Object.values(generated).flatMap((module) =>
      Object.entries(module).filter(([name]) => /ServiceService$/.test(name)),
    );
    expect(generatedServices).toHaveLength(servers.length);

    const disagreements: string[] = [];
    let rpcs = 0;
    for (const [definition, handlers] of servers) {
      for (const [name, { path }] of Object.entries(definition)) {
        rpcs++;
        const serverSays = handlers[name]!.kind === 'mutation';
        if (isMutation(path) !== serverSays) disagreements.push(`${path}: server says ${handlers[name]!.kind}`);
      }
    }
    expect(disagreements).toEqual([]);
    expect(rpcs).toBeGreaterThan(40);
  });

  it('reads only a whole Get/List/Check word as a read', () => {
    expect(isMutation('/billing.v1.X/Checkout')).toBe(true);
    expect(isMutation('/billing.v1.X/Listen')).toBe(true);
    expect(isMutation('/billing.v1.X/getCustomer')).toBe(true);
  });

  it('treats every RPC but get/list/check as a mutation', () => {
    expect(isMutation(CREATE_CUSTOMER)).toBe(true);
    expect(isMutation('/billing.v1.PaymentService/CreateRefund')).toBe(true);
    expect(isMutation('/billing.v1.EventService/ReplayEvents')).toBe(true);
    expect(isMutation(GET_CUSTOMER)).toBe(false);
    expect(isMutation('/billing.v1.CustomerService/ListCustomers')).toBe(false);
    expect(isMutation('/billing.v1.EntitlementService/CheckEntitlement')).toBe(false);
  });
});
