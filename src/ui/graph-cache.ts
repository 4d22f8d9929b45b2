/**
 * One graph layout per project and shape, computed in a worker thread (graph-worker.ts). A
 * project's feed warms it as soon as a page opens and again when the dependency structure changes
 * (a feature added, removed or re-wired); states never invalidate it. The critical path, which
 * moves as features pass, is computed on every request (linear in the graph).
 */
import { Worker } from 'node:worker_threads';
import { criticalPath, layoutGraph, shapeOf, type GraphInput, type GraphLayout } from './graph-layout.ts';

type Job = { resolve: (layout: GraphLayout) => void; reject: (err: Error) => void };

export class LayoutCache {
  private readonly entries = new Map<string, { shape: string; layout: Promise<GraphLayout> }>();
  private readonly jobs = new Map<number, Job>();
  private worker: Worker | null = null;
  private nextJob = 1;
  private closed = false;

  /** The layout of this shape: cached, under way, or started now. */
  warm(projectId: string, unsorted: readonly GraphInput[]): Promise<GraphLayout> {
    // By id: the feed lists features by priority, the graph request by id; the same shape either way.
    const features = [...unsorted].sort((a, b) => a.id - b.id);
    const shape = shapeOf(features);
    const hit = this.entries.get(projectId);
    if (hit?.shape === shape) return hit.layout;
    const layout = this.compute(features);
    this.entries.set(projectId, { shape, layout });
    // A failed layout is not cached: the next request tries again.
    layout.catch(() => {
      if (this.entries.get(projectId)?.layout === layout) this.entries.delete(projectId);
    });
    return layout;
  }

  /** The layout with the critical path of the features' current states. */
  async get(projectId: string, features: readonly GraphInput[]): Promise<GraphLayout> {
    const layout = await this.warm(projectId, features);
    return { ...layout, critical: criticalPath(features) };
  }

  async close(): Promise<void> {
    this.closed = true;
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  private compute(features: readonly GraphInput[]): Promise<GraphLayout> {
    const worker = this.thread();
    if (!worker) return Promise.resolve().then(() => layoutGraph(features));
    const id = this.nextJob++;
    return new Promise<GraphLayout>((resolve, reject) => {
      this.jobs.set(id, { resolve, reject });
      worker.postMessage({ id, features: features.map((f) => ({ ...f, dependencies: [...f.dependencies] })) });
    });
  }

  private thread(): Worker | null {
    if (this.closed) return null;
    if (this.worker) return this.worker;
    const worker = new Worker(new URL('./graph-worker.ts', import.meta.url));
    worker.unref(); // it never keeps the process alive; a pending request does
    worker.on('message', (m: { id: number; layout?: GraphLayout; error?: string }) => {
      const job = this.jobs.get(m.id);
      this.jobs.delete(m.id);
      if (m.layout) job?.resolve(m.layout);
      else job?.reject(new Error(`graph layout failed: ${m.error}`));
    });
    const fail = (err: Error) => {
      if (this.worker === worker) this.worker = null;
      for (const job of this.jobs.values()) job.reject(err);
      this.jobs.clear();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`the graph layout thread exited (code ${code})`)));
    this.worker = worker;
    return worker;
  }
}
