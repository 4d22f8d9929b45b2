import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { spawnAgent } from '../../src/supervisor/index.ts';
import { fixture, makeTempDir } from './helpers.ts';

const tmp = makeTempDir();
after(tmp.cleanup);
const MB = 1024 * 1024;

/** Largest RSS of this process seen every 20 ms while `work` runs. */
async function peakRssDuring(work: Promise<unknown>): Promise<number> {
  let peak = process.memoryUsage.rss();
  let done = false;
  const settled = work.finally(() => {
    done = true;
  });
  while (!done) {
    peak = Math.max(peak, process.memoryUsage.rss());
    await sleep(20);
  }
  await settled;
  return Math.max(peak, process.memoryUsage.rss());
}

test('10 agents flooding 100 MB of output each keep this process within 100 MB of its idle RSS', async () => {
  // Warm up the code paths once, so that idle means "supervisor loaded", not "nothing loaded".
  const warm = await spawnAgent({
    argv: [fixture('flood-stdout'), '1000'],
    cwd: tmp.dir,
    logPath: join(tmp.dir, 'warm.log'),
  });
  await warm.wait();
  const idle = await peakRssDuring(sleep(300));

  const bytes = 100 * MB;
  const handles = await Promise.all(
    Array.from({ length: 10 }, (_, i) =>
      spawnAgent({
        argv: [fixture('flood-stdout'), String(bytes)],
        cwd: tmp.dir,
        logPath: join(tmp.dir, `flood-${i}.log`),
      }),
    ),
  );
  const started = performance.now();
  const flooding = await peakRssDuring(Promise.all(handles.map((handle) => handle.wait())));
  const seconds = (performance.now() - started) / 1000;
  console.log(
    `RSS idle ${(idle / MB).toFixed(1)} MB, peak while 10 agents wrote ${(10 * bytes) / MB} MB: ` +
      `${(flooding / MB).toFixed(1)} MB (+${((flooding - idle) / MB).toFixed(1)} MB) in ${seconds.toFixed(1)} s`,
  );
  for (const handle of handles) {
    assert.ok(statSync(handle.logPath).size >= bytes, 'all output reached the log');
    assert.match(handle.tail({ maxLines: 3 }), /flood-stdout \d+ done/);
  }
  assert.ok(flooding - idle < 100 * MB, `RSS grew by ${((flooding - idle) / MB).toFixed(1)} MB`);
});
