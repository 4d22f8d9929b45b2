/**
 * `autocoder feature usage` and `autocoder set budget-usd` as real subprocesses against a real
 * Postgres: good usage adds to the agent run's row (and `autocoder spend --json` shows it); bad
 * values exit 2 with a line naming the flag and the value, and nothing is recorded.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { sql } from 'kysely';
import { withTestDb } from '../support/db.ts';
import { seedProject } from '../db/seed.ts';
import { autocoderBin, repoRoot } from '../mcp/support.ts';

type Run = { code: number; stdout: string; stderr: string };

function cli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      autocoderBin,
      args,
      { cwd: repoRoot, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code) : 0, stdout, stderr }),
    );
  });
}

describe('spend from the CLI', () => {
  const t = withTestDb();

  test('feature usage adds to the run; bad values exit 2 and record nothing', async () => {
    const projectId = await seedProject(t.db, [{ id: 1, name: 'Login' }], 'usage');
    const runId = `autocoder/${projectId}/coding/1/1`;
    await t.db
      .insertInto('agent_runs')
      .values({ id: runId, project_id: projectId, feature_id: 1, kind: 'coding', attempt: 1, started_at: sql`now()` })
      .execute();
    const env = { AUTOCODER_PROJECT_ID: projectId, DATABASE_URL: t.url, AUTOCODER_RUN_ID: runId };
    const row = () =>
      t.db.selectFrom('agent_runs').select(['cost_usd', 'tokens']).where('id', '=', runId).executeTakeFirstOrThrow();

    for (const [args, named] of [
      [['--cost-usd', 'abc'], '--cost-usd'],
      [['--cost-usd', '-1'], '--cost-usd'],
      [['--cost-usd', '0.5', '--input-tokens', '12.5'], '--input-tokens'],
      [['--cost-usd', '0.5', '--output-tokens', 'many'], '--output-tokens'],
    ] as const) {
      const bad = await cli(['feature', 'usage', ...args], env);
      assert.equal(bad.code, 2, `${args.join(' ')}: ${bad.stderr}`);
      assert.match(bad.stderr, new RegExp(`autocoder: ${named} must be`));
      assert.deepEqual(await row(), { cost_usd: null, tokens: null }, 'nothing recorded');
    }
    const noRun = await cli(['feature', 'usage', '--cost-usd', '0.5'], { ...env, AUTOCODER_RUN_ID: '' });
    assert.equal(noRun.code, 2);
    assert.match(noRun.stderr, /AUTOCODER_RUN_ID/);

    const first = await cli(['feature', 'usage', '--cost-usd', '0.25', '--input-tokens', '1000'], env);
    assert.equal(first.code, 0, first.stderr);
    const second = await cli(
      ['feature', 'usage', '--cost-usd', '0.5', '--input-tokens', '500', '--output-tokens', '70'],
      env,
    );
    assert.equal(second.code, 0, second.stderr);
    const stored = await row();
    assert.equal(Number(stored.cost_usd), 0.75);
    assert.deepEqual(stored.tokens, { input_tokens: 1500, output_tokens: 70 });

    const spend = await cli(['spend', projectId, '--by', 'kind', '--json'], { DATABASE_URL: t.url });
    assert.equal(spend.code, 0, spend.stderr);
    const json = JSON.parse(spend.stdout) as Record<string, unknown>;
    assert.equal(json.project, projectId);
    assert.equal(json.totalUsd, 0.75);
    assert.deepEqual(json.tokens, { input: 1500, output: 70, cacheRead: 0, cacheCreation: 0 });
    assert.deepEqual(json.rows, [
      { key: 'coding', usd: 0.75, tokens: { input: 1500, output: 70, cacheRead: 0, cacheCreation: 0 } },
    ]);
    const badBy = await cli(['spend', '--by', 'week'], { DATABASE_URL: t.url });
    assert.equal(badBy.code, 2);
    assert.match(badBy.stderr, /--by must be one of day, feature, kind, got "week"/);
  });

  test('set budget-usd with a bad value exits 2 before anything is sent', async () => {
    // No stack is reachable under these variables: a value checked first never gets that far.
    const env = { DATABASE_URL: t.url, TEMPORAL_ADDRESS: '127.0.0.1:1' };
    for (const [setting, value] of [
      ['budget-usd', '0'],
      ['budget-usd', '-5'],
      ['feature-budget-usd', 'ten'],
      ['daily-budget-usd', '1e3'],
    ] as const) {
      const bad = await cli(['set', setting, value, '--project', 'todo-app'], env);
      assert.equal(bad.code, 2, `${setting} ${value}: ${bad.stderr}`);
      assert.match(bad.stderr, new RegExp(`autocoder: ${setting} must be a positive amount of USD, got "${value}"`));
    }
  });
});
