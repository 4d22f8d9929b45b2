/**
 * Workflow IDs of runs, built and parsed here only. A project run is `autocoder/<project>`; an
 * agent run is `autocoder/<project>/<kind>/<feature>/<attempt>`, or
 * `autocoder/<project>/initializer/init/<tail>` for the initializer, whose tail (from the project
 * run's run ID) tells the initializers of successive runs apart. An agent run's ID is also the
 * owner stamped on its claim: SQL builds it as `agentRunPrefix(...) || feature || '/' || attempt`
 * (src/db/claims.ts `ownerIdSql`), the same shape as `agentRunId`. Pure: the workflow bundle, the
 * feature store and the CLI all use it.
 */
import { agentKinds, type AgentKind } from './vocabulary.ts';

const ROOT = 'autocoder';
export const INITIALIZER_TARGET = 'init';

export const projectRunId = (projectId: string): string => `${ROOT}/${projectId}`;

/**
 * A worker's host id (AUTOCODER_HOST_ID): it names the host on agent runs, in metrics, in task
 * queue names (`autocoder@<host>`) and in the branches a host publishes, so it is a hostname-like slug.
 */
export const HOST_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/;
export const HOST_ID_RULE =
  'must be 1-63 letters, digits, dots, dashes or underscores, starting with a letter or digit';

/** The host queue of a shared task queue: `autocoder` → `autocoder@host-a` (src/activities/hosts.ts). */
export const hostQueueOf = (sharedQueue: string, hostId: string): string => `${sharedQueue}@${hostId}`;

/** The project's merge queue (worktree isolation): one per project, started by signal-with-start. */
export const mergeQueueId = (projectId: string): string => `${projectRunId(projectId)}/merge`;

/** Every agent run of this kind in this project starts with this (claims in SQL append `<feature>/<attempt>`). */
export const agentRunPrefix = (projectId: string, kind: AgentKind): string => `${projectRunId(projectId)}/${kind}/`;

export type AgentRunKey =
  | { projectId: string; kind: Exclude<AgentKind, 'initializer'>; featureId: number; attempt: number }
  | { projectId: string; kind: 'initializer'; tail: string };

export function agentRunId(key: AgentRunKey): string {
  const prefix = agentRunPrefix(key.projectId, key.kind);
  return key.kind === 'initializer'
    ? `${prefix}${INITIALIZER_TARGET}/${key.tail}`
    : `${prefix}${key.featureId}/${key.attempt}`;
}

export type ParsedAgentRunId = { projectId: string; kind: AgentKind; featureId: number | null; attempt: number };

const AGENT_RUN_ID = new RegExp(
  `^${ROOT}/([a-z0-9][a-z0-9-]{0,62})/(${agentKinds.join('|')})/(\\d+|${INITIALIZER_TARGET})/([^/]+)$`,
);

/** The parts of an agent run ID; null when it is not one. The initializer's attempt is 0. */
export function parseAgentRunId(id: string): ParsedAgentRunId | null {
  const m = AGENT_RUN_ID.exec(id);
  if (!m) return null;
  const [, projectId, kind, target, last] = m as unknown as [string, string, AgentKind, string, string];
  if (kind === 'initializer')
    return target === INITIALIZER_TARGET ? { projectId, kind, featureId: null, attempt: 0 } : null;
  if (target === INITIALIZER_TARGET || !/^\d+$/.test(last)) return null;
  return { projectId, kind, featureId: Number(target), attempt: Number(last) };
}

/** The attempt number of an agent run ID; 0 when it has none (the initializer's). */
export const attemptOf = (id: string): number => parseAgentRunId(id)?.attempt ?? 0;

/** The quotaGovernor of one quota key (one account's usage limit): `autocoder/quota/<key>`. */
export const QUOTA_GOVERNOR_PREFIX = `${ROOT}/quota/`;
export const quotaGovernorId = (key: string): string => `${QUOTA_GOVERNOR_PREFIX}${key}`;
/** A notification sent after its run ended (`autocoder/<project>/notify/<event>/<tail>`): never an agent run. */
export const notifyRunId = (projectId: string, event: string, tail: string): string =>
  `${projectRunId(projectId)}/notify/${event}/${tail}`;

/** The Temporal Schedule of a project's time windows (`autocoder schedule`). */
export const scheduleId = (projectId: string): string => `${ROOT}/schedule/${projectId}`;

/**
 * What a schedule names the windowRun workflows it starts (it appends a timestamp). Outside
 * `autocoder/<project>/`, so nothing that lists a project's runs by that prefix takes one for its own.
 */
export const windowRunId = (projectId: string): string => `${ROOT}-window/${projectId}`;
