/**
 * The product's vocabularies, written once. Workflow code, activities, the database, the CLI and
 * the docs take their names from here; a new name is added to one list. Lists stored in Postgres
 * get a CHECK constraint derived from the list at migration time (src/db/vocabulary-checks.ts),
 * so the database refuses a name this module does not know. No imports: the workflow bundle and
 * the CLI's help load it as it is.
 */

/**
 * What a feature is doing, derived from its row (src/db/features.ts `stateOf`): passes, then the
 * live claim, then an open question to a person (needs_human_input), then the retry cap, then its
 * dependencies.
 */
export const featureStates = [
  'pending',
  'running',
  'passing',
  'failed',
  'blocked',
  'merging',
  'needs_human_input',
] as const;
export type FeatureState = (typeof featureStates)[number];

/** What an agent run works on: the project (initializer) or one feature. Stored in agent_runs.kind. */
export const agentKinds = ['initializer', 'coding', 'testing', 'merge'] as const;
export type AgentKind = (typeof agentKinds)[number];

/**
 * How an agent run ended, once settled. Stored in agent_runs.outcome. `waiting`: it asked a person
 * (`feature ask`, feature_request_human_input) and ended; not a failure, the feature is parked.
 * `rate_limited`: the account's usage limit stopped it; not a failure either. `host_lost`: its host's
 * worker did not come back within --host-lost-after; `host_drained`: its host was drained (SIGTERM
 * to the worker). Neither is the feature's failure: it runs again elsewhere.
 */
export const agentRunOutcomes = [
  'passed',
  'failed',
  'crashed',
  'timed_out',
  'stopped',
  'rate_limited',
  'waiting',
  'host_lost',
  'host_drained',
] as const;
export type AgentRunOutcome = (typeof agentRunOutcomes)[number];

/**
 * What a person is asked (human_requests.kind): 'feature' blocks a feature until answered
 * (`feature_request_human_input`), 'ask' is a question (`ask_user`). Stored in human_requests.kind.
 */
export const humanRequestKinds = ['feature', 'ask'] as const;
export type HumanRequestKind = (typeof humanRequestKinds)[number];

/**
 * Where a project run is in its life (the status query's `phase`). `waiting_for_human`: nothing
 * can run until a person answers a parked feature's question (no timer runs meanwhile).
 */
export const runPhases = [
  'initializing',
  'resuming',
  'running',
  'draining',
  'stopping',
  'done',
  'waiting_for_human',
] as const;
export type RunPhase = (typeof runPhases)[number];

/** How a project run ended (its result's `outcome`). */
export const runOutcomes = ['complete', 'stopped', 'drained', 'blocked', 'failed'] as const;
export type RunOutcome = (typeof runOutcomes)[number];

/**
 * Why a project run starts no new agents (the status query's `pause.reason`): an operator's pause,
 * a budget reached (`pause.budget` says which), or the account's usage limit (the quota governor).
 */
export const pauseReasons = ['operator', 'budget', 'quota'] as const;
export type PauseReason = (typeof pauseReasons)[number];

/** Which budget stopped dispatch (`pause.budget`): the run's, one feature's, the project's day, the installation's day. */
export const budgetKinds = ['run', 'feature', 'daily', 'installation'] as const;
export type BudgetKind = (typeof budgetKinds)[number];

/** What a reached budget does to running agents (`--on-budget`): let them finish, or stop them. */
export const onBudgetActions = ['finish', 'stop'] as const;
export type OnBudgetAction = (typeof onBudgetActions)[number];

/** A quota key's state (`autocoder quota`): dispatch paused until the reset, or clear. */
export const quotaStates = ['paused', 'clear'] as const;
export type QuotaState = (typeof quotaStates)[number];
/** Events a run POSTs to --notify-url (the body's `event`). */
export const notifyEvents = [
  'request.opened',
  'request.reminder',
  'run.completed',
  'run.blocked',
  'run.failed',
  'run.paused',
] as const;
export type NotifyEvent = (typeof notifyEvents)[number];

/**
 * Where coding agents work (`--isolation`): each feature in its own git worktree, landed by the
 * merge queue (`worktree`), or all in the project dir (`shared`). Stored in projects.isolation.
 */
export const isolationModes = ['worktree', 'shared'] as const;
export type IsolationMode = (typeof isolationModes)[number];

/** The merge queue's step for the feature it works on (the status query's `mergeQueue.step`). */
export const mergeSteps = ['rebasing', 'resolving', 'verifying', 'reviewing', 'landing'] as const;
export type MergeStep = (typeof mergeSteps)[number];

/** Why the merge queue sent a feature back to pending (counted as a failure, with the output tail). */
export const mergeFailures = ['merge_conflict', 'verify_failed'] as const;
export type MergeFailure = (typeof mergeFailures)[number];

/** How an agent is run (`--agent`). */
export const agentAdapters = ['claude', 'simulate', 'command'] as const;
export type AgentAdapter = (typeof agentAdapters)[number];

/**
 * Stable failure types that cross the Temporal boundary, by what they mean. An attempt that ends
 * any way but passing fails its agentRun with one of the agent types (non-retryable), so the UI's
 * Failed filter finds it.
 */
export const failureTypes = {
  invalidInput: 'InvalidInput',
  claimLost: 'ClaimLost',
  agentExited: 'AgentExited',
  agentCrashed: 'AgentCrashed',
  agentTimedOut: 'AgentTimedOut',
  agentStopped: 'AgentStopped',
  featureNotPassing: 'FeatureNotPassing',
  agentRateLimited: 'AgentRateLimited',
  /** An agent's host did not come back in time, or was drained: the feature runs again elsewhere. */
  hostLost: 'HostLost',
  hostDrained: 'HostDrained',
  /** A host with no free slot (or draining) refused a pick: retried, and so on to another host. */
  hostFull: 'HostFull',
} as const;

/** Agent ends that are nobody's failure: no attempt is counted against the feature. */
export const uncountedOutcomes: readonly AgentRunOutcome[] = ['stopped', 'rate_limited', 'host_lost', 'host_drained'];
