/**
 * The shape the graph module works on: just what scheduling needs. Feature ids are unique in a
 * list (the feature file loader and the database primary key both guarantee it).
 */
export type GraphFeature = {
  id: number;
  /** Lower runs first; AutoCoder's default is 999. */
  priority: number;
  /** Ids this feature depends on, in the order given. `null` means none (as AutoCoder allows). */
  dependencies: readonly number[] | null;
  passes: boolean;
  inProgress: boolean;
};

/** What `features plan` prints with `--json`; the keys of the records are feature ids. */
export type FeaturePlan = {
  /** Ids ready to start, in scheduling order (score desc, priority asc, id asc). */
  ready: number[];
  scores: Record<string, number>;
  /** Dependency cycles as AutoCoder reports them; each list follows "depends on" edges. */
  cycles: number[][];
  /** Per feature id, the dependency ids that name no feature (in list order). */
  missing: Record<string, number[]>;
};

/** Why a feature can never become ready. */
export type BlockReason =
  | { kind: 'missing-dependency'; dependencyIds: number[] }
  | { kind: 'given-up-dependency'; dependencyIds: number[] }
  /** `cycle` starts at the blocked feature and follows "depends on" edges back to it. */
  | { kind: 'cycle'; cycle: number[] }
  | { kind: 'blocked-dependency'; dependencyIds: number[] };

export type BlockedFeature = { id: number; reason: BlockReason };
