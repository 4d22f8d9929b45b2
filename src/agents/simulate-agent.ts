/**
 * A real agent process without a model: it "works" for a while, then acts as its plan says
 * (marks its feature passing in the feature store, fails, crashes, hangs, ignores SIGTERM, spawns
 * grandchildren, floods output). Run by the `simulate` adapter with the agent environment.
 */
import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDb } from '../db/create-db.ts';
import { importFeatures, markFeature } from '../db/features.ts';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { behaviourFor, delayFor, simulatePlanSchema } from './simulate-behaviour.ts';
import { resolveRebase } from './simulate-resolve.ts';

const env = process.env;
const projectId = env.AUTOCODER_PROJECT_ID ?? '';
const kind = env.AUTOCODER_AGENT_KIND ?? 'coding';
const firstId = env.AUTOCODER_FEATURE_ID ? Number(env.AUTOCODER_FEATURE_ID) : null;
// A batch: every feature of this agent, in order (AUTOCODER_FEATURE_IDS); else just the one.
const featureIds = env.AUTOCODER_FEATURE_IDS
  ? env.AUTOCODER_FEATURE_IDS.split(',').map(Number)
  : firstId === null
    ? [null]
    : [firstId];
const attempt = Number(env.AUTOCODER_ATTEMPT ?? '1');
const plan = simulatePlanSchema.parse(JSON.parse(env.AUTOCODER_SIMULATE || '{}'));

async function withDb<T>(work: (db: ReturnType<typeof createDb>['db']) => Promise<T>): Promise<T> {
  const handle = createDb(env.DATABASE_URL ?? '', { poolSize: 1, applicationName: 'autocoder-simulate' });
  try {
    return await work(handle.db);
  } finally {
    await handle.close();
  }
}

/**
 * Works on one feature as the plan says. Returns whether the agent goes on to the next feature of
 * its batch: after a pass, a failure or an exit without passing it does; a crash, a hang or a
 * flood ends (or holds) the whole agent, as it would a real one.
 */
async function work(featureId: number | null): Promise<boolean> {
  const behaviour = behaviourFor(plan, kind, featureId);
  const label = featureId === null ? `[${kind}]` : `[Feature #${featureId}]`;
  const say = (text: string) => process.stdout.write(`${label} ${text}\n`);
  say(`simulated ${kind} agent, attempt ${attempt}, plan: ${behaviour.action}`);
  await sleep(delayFor(behaviour, featureId));
  const failing = behaviour.failAttempts !== undefined && attempt <= behaviour.failAttempts;
  const action = failing ? 'fail' : behaviour.action;
  switch (action) {
    case 'pass':
      if (kind === 'coding' && featureId !== null) {
        // Under worktree isolation, a change of its own for the merge queue to land.
        if (env.AUTOCODER_ISOLATION === 'worktree' && env.AUTOCODER_PROJECT_DIR) {
          mkdirSync(join(env.AUTOCODER_PROJECT_DIR, 'simulated'), { recursive: true });
          writeFileSync(
            join(env.AUTOCODER_PROJECT_DIR, 'simulated', `feature-${featureId}.md`),
            `feature #${featureId}\n`,
          );
        }
        await withDb((db) =>
          markFeature(db, { projectId, featureId, passes: true, runId: env.AUTOCODER_RUN_ID ?? null }),
        );
        say('implemented and verified; marked passing');
      } else if (kind === 'initializer') {
        const features =
          plan.initializerFeatures ??
          [1, 2, 3].map((id) => ({ id, name: `Generated feature ${id}`, dependencies: id > 1 ? [id - 1] : [] }));
        await withDb((db) => importFeatures(db, projectId, features as never, { reset: false }));
        say(`wrote ${features.length} features`);
      } else {
        say('re-tested: still passing');
      }
      break;
    case 'resolve':
      await resolveRebase(process.cwd(), say);
      say('rebase finished');
      break;
    case 'exit0-no-pass':
      say('finished without passing the feature');
      break;
    case 'fail':
      say('tests failed');
      process.exitCode = 1;
      break;
    case 'crash':
      say('crashing');
      process.kill(process.pid, 'SIGSEGV');
      break;
    case 'hang':
      say('hanging');
      setInterval(() => undefined, 1 << 30);
      break;
    case 'ignore-sigterm':
      process.on('SIGTERM', () => say('ignoring SIGTERM'));
      say('hanging, deaf to SIGTERM');
      setInterval(() => undefined, 1 << 30);
      break;
    case 'grandchildren': {
      for (let i = 0; i < 2; i++) {
        spawn(process.execPath, ['-e', "process.on('SIGTERM',()=>{}); setInterval(()=>{}, 1<<30)"], {
          stdio: 'ignore',
          detached: i === 1,
        });
      }
      say('spawned grandchildren; hanging');
      setInterval(() => undefined, 1 << 30);
      break;
    }
    case 'flood': {
      const chunk = `${'x'.repeat(1023)}\n`;
      let left = behaviour.floodBytes ?? 10 * 1024 * 1024;
      while (left > 0) {
        if (!process.stdout.write(chunk)) await new Promise((resolve) => process.stdout.once('drain', resolve));
        left -= chunk.length;
      }
      break;
    }
  }
  return action === 'pass' || action === 'fail' || action === 'exit0-no-pass' || action === 'resolve';
}

for (const featureId of featureIds) if (!(await work(featureId))) break;
