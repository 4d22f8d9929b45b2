/** The worker thread that lays graphs out (graph-layout.ts), so a big layout never stalls the server. */
import { parentPort } from 'node:worker_threads';
import { layoutGraph, type GraphInput } from './graph-layout.ts';

parentPort?.on('message', (job: { id: number; features: GraphInput[] }) => {
  try {
    parentPort!.postMessage({ id: job.id, layout: layoutGraph(job.features) });
  } catch (err) {
    parentPort!.postMessage({ id: job.id, error: err instanceof Error ? err.message : String(err) });
  }
});
