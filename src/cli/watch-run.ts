/** `status --watch`: the live view of a project's run until that run (chain) ends. */
import { projectRunHandle } from '../client.ts';
import { statusQuery } from '../workflows/messages.ts';
import { startLiveView } from './live-view.ts';
import type { Runtime } from './runtime.ts';

export async function watchRun(rt: Runtime, projectId: string, out: (line: string) => void): Promise<void> {
  const handle = projectRunHandle(rt.temporal.client, projectId);
  const description = await handle.describe().catch(() => null);
  if (description?.status.name !== 'RUNNING') return;
  const stop = startLiveView({ read: () => handle.query(statusQuery), stateDir: rt.config.home, out });
  try {
    // result() follows continue-as-new; any ending (even a failure) ends the watch.
    await handle.result().catch(() => undefined);
  } finally {
    await stop();
  }
}
