/** `autocoder feature pass|fail ID [--reason TEXT]` as agents and scripts run it: real subprocesses, real Postgres. */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { userInfo } from 'node:os';
import { claimFeaturesByIds } from '../../src/db/claims.ts';
import { getFeature } from '../../src/db/features.ts';
import { withTestDb } from '../support/db.ts';
import { seedProject } from '../db/seed.ts';
import { autocoderBin, repoRoot } from './support.ts';

type Run = { code: number; stdout: string; stderr: string };

/** Runs the CLI with exactly `env` (plus PATH and HOME): no DATABASE_URL leaks in from the test runner. */
function cli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      autocoderBin,
      args,
      { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      },
    );
  });
}

describe('autocoder feature pass|fail', () => {
  const t = withTestDb();

  test('marks features from the agent environment, fenced by AUTOCODER_RUN_ID when set', async () => {
    const projectId = await seedProject(
      t.db,
      [
        { id: 1, name: 'Login' },
        { id: 2, name: 'Logout' },
        { id: 3, name: 'Signup' },
      ],
      'cli-feature',
    );
    const env = { AUTOCODER_PROJECT_ID: projectId, DATABASE_URL: t.url };

    const passed = await cli(['feature', 'pass', '1'], env);
    assert.deepEqual([passed.code, passed.stdout], [0, 'feature #1 "Login" marked passing\n'], passed.stderr);
    assert.equal((await getFeature(t.db, projectId, 1))?.passes, true);

    const failed = await cli(['feature', 'fail', '1', '--reason', 'logs in with a wrong password'], env);
    assert.equal(failed.code, 0, failed.stderr);
    const f1 = await getFeature(t.db, projectId, 1);
    assert.deepEqual([f1?.passes, f1?.lastError], [false, 'logs in with a wrong password']);
    const events = await t.db
      .selectFrom('feature_events')
      .select(['run_id', 'action'])
      .where('project_id', '=', projectId)
      .orderBy('id')
      .execute();
    assert.deepEqual(events, [
      { run_id: `cli/${userInfo().username}`, action: 'mark passing' },
      { run_id: `cli/${userInfo().username}`, action: 'mark failing' },
    ]);

    // An agent run may mark only the feature it holds.
    const [claim] = await claimFeaturesByIds(t.db, {
      projectId,
      featureIds: [2],
      maxRetries: 3,
    });
    const agentEnv = { ...env, AUTOCODER_RUN_ID: claim!.claimedBy };
    const refused = await cli(['feature', 'pass', '3'], agentEnv);
    assert.equal(refused.code, 2);
    assert.match(
      refused.stderr,
      /feature #3 is not held by agent run autocoder\/.*\/coding\/2\/1 \(AUTOCODER_RUN_ID\); nothing was changed/,
    );
    assert.equal((await getFeature(t.db, projectId, 3))?.passes, false);
    assert.equal((await cli(['feature', 'pass', '2'], agentEnv)).code, 0);
    assert.equal((await getFeature(t.db, projectId, 2))?.passes, true);
    // --project overrides the environment's project.
    const other = await cli(['feature', 'pass', '3', '--project', projectId], { DATABASE_URL: t.url });
    assert.equal(other.code, 0, other.stderr);
  });

  test('bad input exits 2 with a message naming it; an unreachable database exits 3', async () => {
    const env = { AUTOCODER_PROJECT_ID: 'todo-app', DATABASE_URL: t.url };
    const missing = await cli(['feature', 'pass', '3'], {});
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /AUTOCODER_PROJECT_ID is not set/);
    assert.match(missing.stderr, /DATABASE_URL is not set/);
    for (const id of ['abc', '0', '1.5', '99999999999']) {
      const bad = await cli(['feature', 'fail', id], env);
      assert.equal(bad.code, 2, id);
      assert.match(bad.stderr, /feature id must be a positive integer, got "/, id);
    }
    const unknown = await cli(['feature', 'pass', '404'], env);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /project "todo-app" has no feature #404/);
    const badProject = await cli(['feature', 'pass', '1'], { ...env, AUTOCODER_PROJECT_ID: 'Not A Slug' });
    assert.equal(badProject.code, 2);
    assert.match(badProject.stderr, /AUTOCODER_PROJECT_ID must match/);
    const down = await cli(['feature', 'pass', '1'], {
      ...env,
      DATABASE_URL: 'postgres://nobody:x@127.0.0.1:1/nothing',
    });
    assert.equal(down.code, 3);
    assert.match(down.stderr, /cannot reach Postgres at 127\.0\.0\.1:1/);
  });
});
