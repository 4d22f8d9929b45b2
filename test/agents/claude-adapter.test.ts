/**
 * The claude adapter end to end, with no model and no network: buildLaunch({adapter: 'claude'})
 * gives the argv, the supervisor runs it with PATH pointing at a fake `claude` that accepts the
 * real CLI's flags, starts `bin/autocoder mcp` from the MCP config and marks the feature through
 * it; readClaudeResult reads cost, tokens and session from the log, recordAgentUsage stores them.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentSpec } from '../../src/activities/types.ts';
import { buildLaunch, type LaunchContext } from '../../src/agents/adapters.ts';
import { AUTOCODER_BIN } from '../../src/agents/claude.ts';
import { readClaudeResult } from '../../src/agents/claude-result.ts';
import { recordAgentStart } from '../../src/db/agent-runs.ts';
import { lastSessionOf, recordAgentUsage } from '../../src/db/agent-usage.ts';
import { claimFeaturesByIds } from '../../src/db/claims.ts';
import { getFeature, listFeatures } from '../../src/db/features.ts';
import { importFeatures } from '../../src/db/import.ts';
import { upsertProject } from '../../src/db/projects.ts';
import { AgentRunError, spawnAgent } from '../../src/supervisor/index.ts';
import { withTestDb } from '../support/db.ts';

const fakeClaudeDir = fileURLToPath(new URL('../fixtures/fake-claude/', import.meta.url));

type Recorded = {
  opts: Record<string, unknown>;
  prompt: string;
  sessionId: string;
  allowedTools: string[];
  cwd: string;
};

describe('claude adapter with a fake claude that really talks MCP', () => {
  const t = withTestDb();
  let work = '';
  let projectDir = '';
  const projectId = 'claude-e2e';

  before(async () => {
    work = mkdtempSync(join(tmpdir(), 'ac-claude-'));
    projectDir = join(work, 'project with spaces; $(touch pwned)');
    mkdirSync(projectDir);
    await upsertProject(t.db, { id: projectId, dir: projectDir });
    await importFeatures(t.db, projectId, [
      { id: 1, name: 'Login form' },
      { id: 2, name: '-rf "quotes" $(touch /tmp/ac-claude-pwned) {{featureId}}' },
    ]);
  });
  after(() => rmSync(work, { recursive: true, force: true }));

  const spec = (over: Partial<AgentSpec>): AgentSpec => ({
    projectId,
    projectDir,
    kind: 'coding',
    featureId: 1,
    featureName: 'Login form',
    attempt: 1,
    adapter: 'claude',
    yolo: false,
    timeoutMs: 60_000,
    ...over,
  });

  /** Claims the feature for a new run (as projectRun does), launches the fake, waits for its exit. */
  async function runAgent(agent: AgentSpec, extra: Partial<LaunchContext> = {}, env: Record<string, string> = {}) {
    let runId = `autocoder/${projectId}/initializer/init/${agent.attempt}`;
    if (agent.featureId !== null) {
      const [claim] = await claimFeaturesByIds(t.db, {
        projectId,
        featureIds: [agent.featureId],
        maxRetries: 3,
      });
      assert.ok(claim, `feature #${agent.featureId} claimed`);
      runId = claim.claimedBy;
    }
    const launch = buildLaunch(agent, { runId, databaseUrl: t.url, stateDir: join(work, 'state'), ...extra });
    const record = join(work, `record-${agent.attempt}-${agent.featureId}.json`);
    const logPath = join(work, 'logs', `${runId.replaceAll('/', '__')}.log`);
    const handle = await spawnAgent({
      argv: launch.argv,
      cwd: launch.cwd,
      env: {
        ...launch.env,
        PATH: `${fakeClaudeDir}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`,
        FAKE_CLAUDE_RECORD: record,
        ...env,
      },
      logPath,
      timeoutMs: 30_000,
      graceMs: 500,
    });
    await recordAgentStart(t.db, {
      id: runId,
      projectId,
      featureId: agent.featureId,
      kind: agent.kind,
      attempt: agent.attempt,
      host: 'test',
      pid: handle.pid,
      pgid: handle.pgid,
      procStartTime: handle.startTime,
      logPath,
      sessionId: launch.sessionId ?? null,
    });
    const exit = await handle.wait().then(
      (e) => ({ code: e.exitCode as number, error: null }),
      (e: unknown) => {
        if (e instanceof AgentRunError) return { code: e.exitCode, error: e };
        throw e;
      },
    );
    const recorded = JSON.parse(readFileSync(record, 'utf8')) as Recorded;
    return { launch, runId, logPath, exit, recorded, log: () => readFileSync(logPath, 'utf8') };
  }

  test('a coding agent marks its feature passing through bin/autocoder mcp; cost and tokens are read back', async () => {
    const run = await runAgent(spec({ model: 'sonnet' }), { maxBudgetUsd: 2.5 });
    assert.equal(run.exit.code, 0, run.log());
    assert.equal((await getFeature(t.db, projectId, 1))?.passes, true);
    // The write went through the MCP server under the agent's run id.
    const events = await t.db
      .selectFrom('feature_events')
      .select(['run_id', 'action'])
      .where('project_id', '=', projectId)
      .where('feature_id', '=', 1)
      .execute();
    assert.deepEqual(
      events.map((e) => [e.run_id, e.action]),
      [[run.runId, 'mark passing']],
    );

    const { opts, prompt, sessionId, allowedTools, cwd } = run.recorded;
    assert.equal(cwd, projectDir);
    assert.equal(sessionId, run.launch.sessionId);
    assert.deepEqual(
      [opts['--model'], opts['--max-budget-usd'], opts['--permission-mode'], opts['--output-format']],
      ['sonnet', '2.5', 'acceptEdits', 'stream-json'],
    );
    assert.equal(opts['--strict-mcp-config'], true);
    assert.match(prompt, /feature #1: Login form/);
    assert.match(prompt, /feature_mark_passing/);
    assert.ok(allowedTools.includes('mcp__features__feature_mark_passing'));
    assert.ok(
      !allowedTools.includes('mcp__features__feature_create_bulk'),
      'a coding agent does not get the initializer tools',
    );

    const config = (opts['--mcp-config'] as string[])[0]!;
    assert.equal(statSync(config).mode & 0o777, 0o600, 'the MCP config holds DATABASE_URL: owner only');
    const server = (
      JSON.parse(readFileSync(config, 'utf8')) as {
        mcpServers: { features: { command: string; args: string[]; env: Record<string, string> } };
      }
    ).mcpServers.features;
    assert.deepEqual([server.command, server.args], [AUTOCODER_BIN, ['mcp']]);
    assert.deepEqual(
      [server.env.AUTOCODER_RUN_ID, server.env.AUTOCODER_FEATURE_ID, server.env.DATABASE_URL],
      [run.runId, '1', t.url],
    );

    const result = await readClaudeResult(run.logPath);
    assert.equal(result.found, true);
    assert.equal(result.isError, false);
    assert.equal(result.subtype, 'success');
    assert.equal(result.sessionId, run.launch.sessionId);
    assert.equal(result.costUsd, 0.0104);
    assert.deepEqual(result.tokens, {
      input_tokens: 800,
      output_tokens: 120,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 500,
    });
    assert.equal(result.numTurns, 3);
    assert.match(result.result ?? '', /Implemented and verified feature #1/);
    assert.match(
      run.log(),
      /^--- autocoder supervisor .*starting "claude"/m,
      'the log also holds supervisor notes, which the reader skips',
    );

    assert.equal(
      await recordAgentUsage(t.db, {
        runId: run.runId,
        costUsd: result.costUsd,
        tokens: result.tokens,
        sessionId: result.sessionId,
      }),
      true,
    );
    const row = await t.db.selectFrom('agent_runs').selectAll().where('id', '=', run.runId).executeTakeFirstOrThrow();
    assert.deepEqual([row.cost_usd, row.tokens, row.session_id], [0.0104, result.tokens, run.launch.sessionId]);
  });

  test('a failed attempt reports its error; the next attempt resumes its session and passes', async () => {
    const nasty = '-rf "quotes" $(touch /tmp/ac-claude-pwned) {{featureId}}';
    const first = await runAgent(spec({ featureId: 2, featureName: nasty }), {}, { FAKE_CLAUDE_MODE: 'fail' });
    assert.equal(first.exit.code, 1);
    assert.equal(first.exit.error?.reason, 'exited');
    const failed = await readClaudeResult(first.logPath);
    assert.deepEqual(
      [failed.found, failed.isError, failed.subtype, failed.result],
      [true, true, 'error_during_execution', 'simulated model failure'],
    );
    assert.equal(failed.costUsd, 0.0042);
    // The feature name reached the prompt as text: nothing ran, nothing was read as an option.
    assert.ok(first.recorded.prompt.includes(`feature #2: ${nasty}`));
    assert.throws(() => statSync('/tmp/ac-claude-pwned'));
    assert.deepEqual(readdirSync(projectDir), [], 'and nothing appeared in the project directory');
    await recordAgentUsage(t.db, { runId: first.runId, sessionId: failed.sessionId, costUsd: failed.costUsd });
    await t.db
      .updateTable('features')
      .set({ in_progress: false, claimed_by: null })
      .where('project_id', '=', projectId)
      .where('id', '=', 2)
      .execute();

    const previous = await lastSessionOf(t.db, { projectId, featureId: 2 });
    assert.equal(previous, first.launch.sessionId);
    const second = await runAgent(spec({ featureId: 2, featureName: nasty, attempt: 2 }), {
      resumeSessionId: previous!,
    });
    assert.equal(second.exit.code, 0, second.log());
    assert.equal(second.recorded.opts['--resume'], previous);
    assert.equal(second.recorded.opts['--fork-session'], true);
    assert.notEqual(second.recorded.sessionId, previous, 'the resumed conversation gets a session id of its own');
    assert.match(second.recorded.prompt, /This is attempt 2: you are continuing your earlier session/);
    assert.equal((await getFeature(t.db, projectId, 2))?.passes, true);
    assert.equal((await readClaudeResult(second.logPath)).sessionId, second.launch.sessionId);
  });

  test('an initializer agent writes the feature list through feature_create_bulk', async () => {
    const run = await runAgent(spec({ kind: 'initializer', featureId: null, featureName: '', yolo: true }));
    assert.equal(run.exit.code, 0, run.log());
    assert.match(run.recorded.prompt, /initializer agent/);
    assert.match(run.recorded.prompt, /feature_create_bulk/);
    assert.ok(run.recorded.allowedTools.includes('mcp__features__feature_create_bulk'));
    assert.ok(!run.recorded.allowedTools.includes('mcp__features__feature_mark_passing'));
    const created = (await listFeatures(t.db, projectId)).filter((f) => f.id > 2);
    assert.deepEqual(
      created.map((f) => [f.id, f.name, f.dependencies]),
      [
        [3, 'Project skeleton', []],
        [4, 'Main screen', [3]],
      ],
    );
    assert.equal((await readClaudeResult(run.logPath)).result, 'Created 2 features.');
  });
});
