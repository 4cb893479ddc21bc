import { CheckEntitlementResponse } from '../../gen/billing/v1/entitlement';
import type { CommandGroup } from '../command';
import { printFields, printJson, time } from '../output';

export const entitlements: CommandGroup = {
  async check({ client, flags, out }) {
    const customerId = flags.required('customer');
    const featureKey = flags.required('feature');
    flags.done(2);
    const response = await client.api.entitlements.checkEntitlement({ customerId, featureKey });
    if (out.json) return printJson(out, CheckEntitlementResponse.toJSON(response));
    printFields(out, {
      granted: response.granted ? 'yes' : 'no',
      subscription: response.subscriptionId,
      'active until': time(response.activeUntil),
    });
  },
};
