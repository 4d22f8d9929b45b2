/**
 * How every feature tool answers: a JSON text result, or an MCP tool error (`isError: true`) whose
 * text says what went wrong and what to do. A tool never throws into the SDK and never takes the
 * server down: bad input, unknown features, lost claims and an unreachable database all come
 * back as tool errors, and the agent can go on.
 */
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { ClaimLostError, InfraError, UserError } from '../errors.ts';
import type { AgentScope } from './env.ts';

export function ok(value: unknown): CallToolResult {
  return { content: [{ type: 'text', text: JSON.stringify(value) }] };
}

export function toolError(message: string): CallToolResult {
  return { content: [{ type: 'text', text: message }], isError: true };
}

/** Connection-level failures of pg and Node, which say the database is unreachable, not wrong. */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  '57P01',
  '57P03',
  '08006',
  '08001',
  '3D000',
  '28P01',
]);

/** The text an agent reads for a failed call. Unexpected errors also go to stderr with their stack. */
export function describeFailure(
  tool: string,
  error: unknown,
  scope: Pick<AgentScope, 'runId' | 'featureId' | 'databaseUrl'>,
): string {
  if (error instanceof UserError || error instanceof InfraError) {
    return `${tool}: ${error.message}${error.hint ? ` (fix: ${error.hint})` : ''}`;
  }
  if (error instanceof ClaimLostError) {
    const given = scope.featureId === null ? '' : ` (it was given feature #${scope.featureId})`;
    return (
      `${tool}: feature #${error.featureId} is not held by this agent run (${error.owner})${given}; ` +
      'an agent may change the state of the feature it holds only. Nothing was changed.'
    );
  }
  const code = (error as { code?: unknown } | null)?.code;
  const message = error instanceof Error ? error.message || error.name : String(error);
  if (typeof code === 'string' && UNREACHABLE_CODES.has(code)) {
    return `${tool}: the feature database is unreachable (${hostOf(scope.databaseUrl)}): ${message}. Nothing was changed; try again in a moment.`;
  }
  if (error instanceof Error && /timeout|terminated|Connection terminated/i.test(message)) {
    return `${tool}: the feature database did not answer (${hostOf(scope.databaseUrl)}): ${message}. Try again in a moment.`;
  }
  process.stderr.write(
    `autocoder mcp: ${tool} failed: ${error instanceof Error ? (error.stack ?? message) : message}\n`,
  );
  return `${tool}: internal error: ${message}`;
}

function hostOf(databaseUrl: string): string {
  try {
    const url = new URL(databaseUrl);
    return `${url.hostname || 'localhost'}:${url.port || '5432'}`;
  } catch {
    return 'DATABASE_URL';
  }
}
