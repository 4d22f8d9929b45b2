/** The feature store: everything src/db offers to activities, the CLI and the MCP server. */
export { createDb, type DbHandle, type DbOptions } from './create-db.ts';
export { migrateToLatest, knownMigrations } from './migrate.ts';
export type { Database, AgentKind, AgentOutcome, AgentRunRow, FeatureRow, ProjectRow } from './tables.ts';
export { upsertProject, getProject, requireProject, assertProjectId, PROJECT_ID_PATTERN } from './projects.ts';
export { importFeatures, type FeatureEntry, type ImportCounts, type ImportOptions } from './import.ts';
export { recomputeScores } from './scores.ts';
export {
  listFeatures,
  getFeature,
  featureCounts,
  markFeature,
  resetFailures,
  unknownFeature,
  DEFAULT_MAX_RETRIES,
  FEATURE_STATES,
  type Feature,
  type FeatureCounts,
  type FeatureState,
  type MarkInput,
} from './features.ts';
export {
  claimReadyFeatures,
  readyFeatureExists,
  claimFeaturesByIds,
  claimFeaturesForTesting,
  DEFAULT_TESTING_LEASE_MS,
  type ClaimedFeature,
  type TestingClaim,
  type ClaimReadyInput,
  type ClaimByIdsInput,
  type ClaimTestingInput,
  type ClaimTestersInput,
} from './claims.ts';
export { syncVocabularyChecks, VOCABULARY_CHECKS, type VocabularyCheck } from './vocabulary-checks.ts';
export {
  releaseClaim,
  recordOutcome,
  type OutcomeInput,
  type OutcomeResult,
  type ReleaseInput,
} from './transitions.ts';
export { heldClaims, type HeldClaim } from './held-claims.ts';
export {
  recordAgentStart,
  recordAgentEnd,
  liveAgentRuns,
  listAgentRuns,
  type AgentStart,
  type AgentEnd,
} from './agent-runs.ts';
export { attemptOf } from '../workflows/run-ids.ts';
