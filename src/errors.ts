/**
 * Typed errors, one per failure domain. The CLI's single error boundary maps them to exit codes:
 * UserError → 2 (bad input: message names the input, the value and the fix, no stack trace),
 * InfraError → 3 (something we need is unreachable: names the address tried and the fix).
 * Anything else is a bug and prints its stack.
 */
export type ErrorDetails = { hint?: string; cause?: unknown };

export class UserError extends Error {
  override name = 'UserError';
  readonly exitCode = 2;
  readonly hint: string | undefined;
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.hint = details.hint;
  }
}

export class InfraError extends Error {
  override name = 'InfraError';
  readonly exitCode = 3;
  readonly hint: string | undefined;
  constructor(message: string, details: ErrorDetails = {}) {
    super(message, details.cause === undefined ? undefined : { cause: details.cause });
    this.hint = details.hint;
  }
}

/** A later transition on a claimed feature matched zero rows: someone else owns it now. */
export class ClaimLostError extends Error {
  override name = 'ClaimLostError';
  readonly projectId: string;
  readonly featureId: number;
  readonly owner: string;
  readonly operation: string;
  constructor(projectId: string, featureId: number, owner: string, operation: string) {
    super(`claim lost: ${operation} on feature #${featureId} of ${projectId} is no longer owned by ${owner}`);
    this.projectId = projectId;
    this.featureId = featureId;
    this.owner = owner;
    this.operation = operation;
  }
}

/** Shows a value in an error message: strings quoted, long values cut, control characters escaped. */
export function showValue(value: unknown): string {
  let text: string;
  try {
    text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  } catch {
    text = String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
