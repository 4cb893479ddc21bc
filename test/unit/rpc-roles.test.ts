import { allRpcPaths } from '../../src/auth/billing-services';
import { hasRole } from '../../src/auth/roles';
import { minimumRoleOf, MINIMUM_ROLE_BY_PATH } from '../../src/auth/rpc-roles';

describe('the RPC role table', () => {
  it('has exactly one entry for every RPC of the generated service definitions', () => {
    const paths = allRpcPaths();
    expect(paths.length).toBeGreaterThanOrEqual(40);
    expect([...MINIMUM_ROLE_BY_PATH.keys()].sort()).toEqual([...paths].sort());
    for (const path of paths)
      expect({ path, role: MINIMUM_ROLE_BY_PATH.get(path) }).toEqual({ path, role: expect.any(String) });
  });

  it('keeps configuration and event-log operations from service keys', () => {
    for (const rpc of [
      'StorefrontService/SwitchProvider',
      'StorefrontService/UpdateStorefront',
      'CatalogService/CreatePlan',
      'EventService/ReplayEvents',
      'EventService/RetryDeadLetter',
    ]) {
      expect(minimumRoleOf(`billing.v1.${rpc}`)).toBe('platform');
    }
    expect(minimumRoleOf('billing.v1.CatalogService/ListPlans')).toBe('service');
    expect(minimumRoleOf('billing.v1.StorefrontService/GetStorefront')).toBe('service');
  });

  it('closes an unknown RPC to everyone but admin', () => {
    expect(minimumRoleOf('billing.v1.NewService/DoSomething')).toBe('admin');
  });

  it('orders the roles service < platform < admin', () => {
    expect(hasRole('platform', 'service')).toBe(true);
    expect(hasRole('service', 'platform')).toBe(false);
    expect(hasRole('admin', 'platform')).toBe(true);
    expect(hasRole('platform', 'admin')).toBe(false);
  });
});
