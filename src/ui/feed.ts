/**
 * One status fan-out per project, shared by every open page (issue 22, item 7): while a project
 * has subscribers, one loop reads its run's status query, its features, its open human requests
 * and its running agents, every `intervalMs`, and sends each subscriber only what changed (the
 * features that changed, not the list). A page that opens gets the last snapshot at once. With
 * no subscriber left the loop stops, so an idle dashboard asks Temporal nothing.
 */
import type { Client } from '@temporalio/client';
import type { Kysely } from 'kysely';
import { readRunStatus, workflowUiUrl, type StatusReport } from '../client.ts';
import { listFeatures, type Feature } from '../db/features.ts';
import { listHumanRequests } from '../db/human-requests.ts';
import type { Database } from '../db/tables.ts';
import type { RunningAgent } from '../workflows/messages.ts';
import { describeAgents, type AgentView } from './agents.ts';
import type { LayoutCache } from './graph-cache.ts';

/** The board's columns, in order. `merging` and `needs_input` fill as soon as the status carries them. */
export const boardColumns = ['pending', 'ready', 'running', 'merging', 'passing', 'failed', 'held', 'needs_input'];

export type FeatureView = {
  id: number;
  name: string;
  category: string;
  priority: number;
  dependencies: number[];
  state: string;
  column: string;
  failureCount: number;
  lastError: string | null;
  attempts: number;
  waitingOn: number[];
  missingDependencies: number[];
};

export type RequestView = {
  id: number;
  featureId: number | null;
  kind: string;
  question: string;
  options: unknown;
  createdAt: string;
};

export type RunView = Omit<StatusReport, 'result'> & { temporalUrl: string | null; result?: unknown };

export type ActivityItem = { at: string; featureId: number; name: string; from: string; to: string };

export type Snapshot = {
  project: string;
  run: RunView | null;
  features: FeatureView[];
  requests: RequestView[];
  agents: AgentView[];
  activity: ActivityItem[];
  error: string | null;
};

/** What a subscriber receives: the whole snapshot first, then changes. */
export type FeedMessage =
  | { type: 'snapshot'; data: Snapshot }
  | { type: 'features'; data: { changed: FeatureView[]; removed: number[] } }
  | { type: 'run'; data: RunView | null }
  | { type: 'requests'; data: RequestView[] }
  | { type: 'agents'; data: AgentView[] }
  | { type: 'activity'; data: ActivityItem[] }
  | { type: 'error'; data: string | null };

export type FeedDeps = {
  db: Kysely<Database>;
  client: Client;
  namespace: string;
  temporalUiUrl: string | null;
  intervalMs?: number;
  /** Warmed with the features' shape on the first read and whenever features change. */
  layouts?: LayoutCache;
};

const ACTIVITY_KEPT = 50;

/**
 * Which column a feature is in. A running or passing feature shows its state; a stopped one is
 * held until retried; an open 'feature' request is "needs input"; our `pending` (every dependency
 * passes) is the board's "ready" and our `blocked` (waiting on a dependency) its "pending".
 * A state this version does not know (merging, needs_human_input) gets the column of its name.
 */
export function columnOf(feature: Pick<Feature, 'id' | 'state'>, held: Set<number>, awaiting: Set<number>): string {
  const state: string = feature.state;
  if (state === 'passing' || state === 'running' || state === 'merging') return state;
  if (state === 'needs_human_input') return 'needs_input';
  if (held.has(feature.id)) return 'held';
  if (awaiting.has(feature.id)) return 'needs_input';
  if (state === 'pending') return 'ready';
  if (state === 'blocked') return 'pending';
  return state;
}

function viewOf(f: Feature, held: Set<number>, awaiting: Set<number>): FeatureView {
  return {
    id: f.id,
    name: f.name,
    category: f.category,
    priority: f.priority,
    dependencies: f.dependencies,
    state: f.state,
    column: columnOf(f, held, awaiting),
    failureCount: f.failureCount,
    lastError: f.lastError,
    attempts: f.attempts,
    waitingOn: f.waitingOn,
    missingDependencies: f.missingDependencies,
  };
}

export class ProjectFeed {
  readonly projectId: string;
  private readonly deps: FeedDeps;
  private readonly listeners = new Set<(message: FeedMessage) => void>();
  private current: Snapshot | null = null;
  private featureJson = new Map<number, string>();
  private loop: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(projectId: string, deps: FeedDeps) {
    this.projectId = projectId;
    this.deps = deps;
  }

  get subscribers(): number {
    return this.listeners.size;
  }

  subscribe(listener: (message: FeedMessage) => void): () => void {
    this.listeners.add(listener);
    if (this.current) listener({ type: 'snapshot', data: this.current });
    this.loop ??= this.run();
    return () => {
      this.listeners.delete(listener);
      this.poke();
    };
  }

  /** Read now (after a control), instead of at the next interval. */
  poke(): void {
    this.wake?.();
  }

  /** The latest snapshot, read now if the loop has none yet. */
  async snapshot(): Promise<Snapshot> {
    return this.current ?? (await this.read());
  }

  private async run(): Promise<void> {
    const interval = this.deps.intervalMs ?? 500;
    while (this.listeners.size > 0) {
      const next = await this.read();
      this.publish(next);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, interval);
        this.wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.wake = null;
    }
    this.loop = null;
    this.current = null;
    this.featureJson.clear();
  }

  private async read(): Promise<Snapshot> {
    const { db, client } = this.deps;
    const previous = this.current;
    try {
      const report = await readRunStatus(client, this.projectId);
      const status = report?.outcome === null ? report.status : undefined;
      const maxRetries = status?.settings.maxRetries;
      const [features, requests] = await Promise.all([
        listFeatures(db, this.projectId, maxRetries === undefined ? {} : { maxRetries }),
        listHumanRequests(db, { projectId: this.projectId, open: true, limit: 200 }),
      ]);
      const held = new Set(status?.held ?? []);
      const awaiting = new Set(
        requests.filter((r) => r.kind === 'feature' && r.feature_id !== null).map((r) => r.feature_id as number),
      );
      const running: RunningAgent[] = status?.running ?? [];
      return {
        project: this.projectId,
        run: report ? this.runView(report) : null,
        features: features.map((f) => viewOf(f, held, awaiting)),
        requests: requests.map((r) => ({
          id: r.id,
          featureId: r.feature_id,
          kind: r.kind,
          question: r.question,
          options: r.options,
          createdAt: r.created_at.toISOString(),
        })),
        agents: await describeAgents(db, running),
        activity: previous?.activity ?? [],
        error: null,
      };
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      return previous ? { ...previous, error: message } : emptySnapshot(this.projectId, message);
    }
  }

  private runView(report: StatusReport): RunView {
    const { result, ...rest } = report;
    const base = this.deps.temporalUiUrl;
    const temporalUrl = base ? workflowUiUrl(base, this.deps.namespace, report.workflowId, report.runId) : null;
    return { ...rest, temporalUrl, ...(result === undefined ? {} : { result }) };
  }

  private publish(next: Snapshot): void {
    const previous = this.current;
    if (!previous) {
      this.featureJson = new Map(next.features.map((f) => [f.id, JSON.stringify(f)]));
      this.current = next;
      this.send({ type: 'snapshot', data: next });
      this.warmLayout(next.features);
      return;
    }
    const changed: FeatureView[] = [];
    const activity: ActivityItem[] = [];
    const oldById = new Map(previous.features.map((f) => [f.id, f]));
    const seen = new Map<number, string>();
    const at = new Date().toISOString();
    for (const f of next.features) {
      const json = JSON.stringify(f);
      seen.set(f.id, json);
      if (this.featureJson.get(f.id) === json) continue;
      changed.push(f);
      const old = oldById.get(f.id);
      if (old && old.column !== f.column)
        activity.push({ at, featureId: f.id, name: f.name, from: old.column, to: f.column });
    }
    const removed = [...this.featureJson.keys()].filter((id) => !seen.has(id));
    this.featureJson = seen;
    next.activity = [...activity.reverse(), ...previous.activity].slice(0, ACTIVITY_KEPT);
    this.current = next;
    if (changed.length > 0 || removed.length > 0) {
      this.send({ type: 'features', data: { changed, removed } });
      this.warmLayout(next.features); // a no-op unless ids or dependencies changed
    }
    if (JSON.stringify(previous.run) !== JSON.stringify(next.run)) this.send({ type: 'run', data: next.run });
    if (JSON.stringify(previous.requests) !== JSON.stringify(next.requests))
      this.send({ type: 'requests', data: next.requests });
    if (JSON.stringify(previous.agents) !== JSON.stringify(next.agents))
      this.send({ type: 'agents', data: next.agents });
    if (activity.length > 0) this.send({ type: 'activity', data: next.activity });
    if (previous.error !== next.error) this.send({ type: 'error', data: next.error });
  }

  /** Lays the graph out (off this thread) before a page asks for it. */
  private warmLayout(features: FeatureView[]): void {
    if (features.length === 0) return;
    const input = features.map((f) => ({ id: f.id, dependencies: f.dependencies, passes: f.state === 'passing' }));
    this.deps.layouts?.warm(this.projectId, input).catch(() => {
      // The graph request reports the failure; the feed carries on.
    });
  }

  private send(message: FeedMessage): void {
    for (const listener of this.listeners) listener(message);
  }
}

function emptySnapshot(projectId: string, error: string | null): Snapshot {
  return { project: projectId, run: null, features: [], requests: [], agents: [], activity: [], error };
}

/** The feeds of all projects, made on first use; a feed with no subscriber costs nothing. */
export class Feeds {
  private readonly feeds = new Map<string, ProjectFeed>();
  private readonly deps: FeedDeps;
  constructor(deps: FeedDeps) {
    this.deps = deps;
  }
  of(projectId: string): ProjectFeed {
    let feed = this.feeds.get(projectId);
    if (!feed) {
      feed = new ProjectFeed(projectId, this.deps);
      this.feeds.set(projectId, feed);
    }
    return feed;
  }
}
