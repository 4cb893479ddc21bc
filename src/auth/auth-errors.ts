import { DomainError } from '../domain/errors';

/** UNAUTHENTICATED; the message never repeats what the caller presented. */
export function unauthenticated(message: string): DomainError {
  return new DomainError('UNAUTHENTICATED', message);
}

export function permissionDenied(message: string): DomainError {
  return new DomainError('PERMISSION_DENIED', message);
}
