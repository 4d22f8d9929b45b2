/**
 * The Kysely `Database` type: what the application sees of the schema the migrations build.
 * Migrations never import this file (they are frozen in time, typed `Kysely<any>`); when a
 * migration changes a table, change its row type here and regenerate src/db/schema.sql.
 */
import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely';

/** A timestamp the database sets (`now()`); read as a Date. */
type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type NullableTimestamp = ColumnType<Date | null, Date | string | null | undefined, Date | string | null>;
type Json<T> = ColumnType<T, string, string>;

import type { AgentKind, AgentRunOutcome, HumanRequestKind, IsolationMode } from '../workflows/vocabulary.ts';

export type { AgentKind, HumanRequestKind };
export type AgentOutcome = AgentRunOutcome;

export interface ProjectsTable {
  id: string;
  dir: string;
  created_at: Generated<Date>;
  settings: ColumnType<Record<string, unknown>, string | undefined, string>;
  /** The isolation of the project's current run: under `worktree`, an agent's pass means merging. */
  isolation: Generated<IsolationMode>;
}

export interface FeaturesTable {
  project_id: string;
  id: number;
  priority: Generated<number>;
  category: Generated<string>;
  name: string;
  description: Generated<string>;
  steps: Json<string[]>;
  /** Never null in the table: a feature file's `null` is stored as `{}`. */
  dependencies: Generated<number[]>;
  passes: Generated<boolean>;
  /** True while a coding agent owns the feature (`claimed_by`), or left true by an import. */
  in_progress: Generated<boolean>;
  /** Generated from `testing_claimed_by IS NOT NULL`, so flag and lease can never disagree. */
  testing_in_progress: ColumnType<boolean, never, never>;
  testing_claimed_by: string | null;
  testing_claimed_at: NullableTimestamp;
  testing_attempts: Generated<number>;
  last_tested_at: NullableTimestamp;
  failure_count: Generated<number>;
  last_error: string | null;
  /** Coding claims so far; the claim owner's last path segment. */
  attempts: Generated<number>;
  claimed_by: string | null;
  claimed_at: NullableTimestamp;
  /**
   * Dependency ids that name no passing feature (a missing id counts); 0 = ready once not passing
   * and not in progress. Kept by triggers (migration 20261130T0900_ready_set), never written here.
   */
  unmet_deps: ColumnType<number, never, never>;
  /** Scheduling score from src/graph `schedulingScores`, kept current by every structural write. */
  score: Generated<number>;
  /** Place in the project's feature list (import order); scores depend on it, as in AutoCoder. */
  position: Generated<number>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
  /** Set while the merge queue holds the feature (`merging`): it does not pass yet, nor may it be claimed. */
  merging_since: NullableTimestamp;
  /** While merging: the feature whose branch holds this one's work (its batch's first); null: its own. */
  merge_with: ColumnType<number | null, number | null | undefined, number | null>;
}

export interface AgentRunsTable {
  /** The agentRun workflow ID, `autocoder/<projectId>/<kind>/<featureId|init>/<attempt>`. */
  id: string;
  project_id: string;
  feature_id: number | null;
  kind: AgentKind;
  attempt: number;
  host: string | null;
  pid: number | null;
  pgid: number | null;
  /** Process start time (clock ticks since boot on Linux) so a recycled pid is never mistaken. */
  proc_start_time: number | null;
  status_path: string | null;
  session_id: string | null;
  started_at: Timestamp;
  ended_at: NullableTimestamp;
  exit_code: number | null;
  signal: string | null;
  outcome: AgentOutcome | null;
  error: string | null;
  log_path: string | null;
  output_tail: string | null;
  cost_usd: number | null;
  tokens: ColumnType<Record<string, number> | null, string | null, string | null>;
}

/** One write an agent made through the feature tools (append-only; see the migration). */
export interface FeatureEventsTable {
  id: Generated<number>;
  project_id: string;
  feature_id: number | null;
  /** AUTOCODER_RUN_ID of the writer, or the session name of an operator's MCP session. */
  run_id: string;
  action: string;
  detail: ColumnType<Record<string, unknown>, string | undefined, string>;
  created_at: Generated<Date>;
}

/** A question for a person (`feature_request_human_input`, `ask_user`); open while unanswered. */
export interface HumanRequestsTable {
  id: Generated<number>;
  project_id: string;
  feature_id: number | null;
  run_id: string;
  kind: HumanRequestKind;
  question: string;
  options: ColumnType<unknown[], string | undefined, string>;
  answer: ColumnType<unknown, string | null | undefined, string | null>;
  created_at: Generated<Date>;
  answered_at: NullableTimestamp;
}

export interface Database {
  projects: ProjectsTable;
  features: FeaturesTable;
  agent_runs: AgentRunsTable;
  feature_events: FeatureEventsTable;
  human_requests: HumanRequestsTable;
}

export type ProjectRow = Selectable<ProjectsTable>;
export type FeatureRow = Selectable<FeaturesTable>;
export type NewFeatureRow = Insertable<FeaturesTable>;
export type FeatureUpdate = Updateable<FeaturesTable>;
export type AgentRunRow = Selectable<AgentRunsTable>;
export type HumanRequestRow = Selectable<HumanRequestsTable>;
