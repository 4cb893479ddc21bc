import { randomUUID } from 'node:crypto';
import { EmulatorError } from '../../kit/emulator/errors';

const VALIDATION_TITLE = 'One or more validation errors occurred.';

/** A failure answered as RFC 7807 problem details; 400s name the camelCase field path of each broken rule. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly errors?: Record<string, string[]>,
  ) {
    super(errors ? `${title} ${JSON.stringify(errors)}` : title);
    this.name = 'ProblemError';
  }
}

/** 400 on one field: `{"errors":{"pricingInfo.totalAmount":["must be greater than 0"]}}`. */
export function invalidField(field: string, rule: string): ProblemError {
  return new ProblemError(400, VALIDATION_TITLE, { [field]: [rule] });
}

/** 401: a missing, expired, revoked or unknown token, or wrong credentials. */
export function unauthorized(): ProblemError {
  return new ProblemError(401, 'Unauthorized');
}

/** 404 for an unknown key: "Membership not found". */
export function notFound(what: string): ProblemError {
  return new ProblemError(404, `${what} not found`);
}

/** 409: the object's state does not allow the call; the title says why. */
export function conflict(title: string): ProblemError {
  return new ProblemError(409, title);
}

/** A reply's status and problem-details body for any error (kit errors keep their status and field). */
export function problemReply(error: unknown): { status: number; body: Record<string, unknown> } {
  const problem = toProblem(error);
  const body: Record<string, unknown> = { type: 'about:blank', title: problem.title, status: problem.status };
  if (problem.errors) body.errors = problem.errors;
  body.traceId = randomUUID().replace(/-/g, '');
  return { status: problem.status, body };
}

function toProblem(error: unknown): ProblemError {
  if (error instanceof ProblemError) return error;
  if (error instanceof EmulatorError) {
    const match = /^([\w.[\]-]+): (.*)$/s.exec(error.message);
    if (error.status === 400 && match) return invalidField(match[1] ?? 'body', match[2] ?? error.message);
    return new ProblemError(error.status, error.message);
  }
  return new ProblemError(500, 'An unexpected error occurred.');
}
