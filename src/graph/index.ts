/**
 * The dependency graph of a feature list: ready set, scheduling order and scores, cycles,
 * missing dependencies, validation of dependency edits, and what can never become ready.
 * Pure and deterministic (no I/O, no clock, no randomness, no Node builtins): activities, the
 * CLI and workflow code all import it. Behaviour follows AutoCoder's resolver (SPEC.md
 * "Scheduling"); the golden vectors in shared/reference/golden pin it down.
 */
export type { BlockedFeature, BlockReason, FeaturePlan, GraphFeature } from './types.ts';
export { schedulingScores } from './scores.ts';
export { compareForScheduling, planFeatures, readyFeatures, type ReadyOptions } from './ready.ts';
export { findCycles, formatCycle, missingDependencies } from './cycles.ts';
export { dependencyCycles } from './components.ts';
export { MAX_DEPENDENCIES_PER_FEATURE, validateDependencies } from './validate.ts';
export { blockedFeatures, describeBlockReason } from './blocked.ts';
export {
  buildFeatureBatches,
  selectTestBatch,
  MAX_BATCH_SIZE,
  MAX_TESTING_BATCH_SIZE,
  type BatchFeature,
  type TestCandidate,
} from './batches.ts';
