import type { Role } from '../app/call-context';

/** Roles from least to most powerful: each may do everything the ones before it may. */
export const ROLES: readonly Role[] = ['service', 'platform', 'admin'];

export function isRole(value: unknown): value is Role {
  return typeof value === 'string' && (ROLES as readonly string[]).includes(value);
}

/** True when `role` is `minimum` or above it. */
export function hasRole(role: Role, minimum: Role): boolean {
  return ROLES.indexOf(role) >= ROLES.indexOf(minimum);
}
