/**
 * A whole run with `agent: 'claude'`: projectRun → agentRun → superviseAgent → the claude
 * adapter's argv → the fake `claude` on PATH → `bin/autocoder mcp` → Postgres. Every feature is
 * marked passing by its own agent run through the MCP tools, and dependants start after it.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { withTemporal } from '../support/temporal.ts';

// The supervisor gives agents the worker's PATH: put the fake claude (and this Node) first.
const fakeClaudeDir = fileURLToPath(new URL('../fixtures/fake-claude/', import.meta.url));
process.env.PATH = `${fakeClaudeDir}:${dirname(process.execPath)}:${process.env.PATH ?? ''}`;
// Where the adapter writes MCP configs when the activity passes no state dir.
const home = mkdtempSync(join(tmpdir(), 'ac-claude-run-'));
process.env.AUTOCODER_HOME = home;

describe('a project run with the claude adapter', () => {
  const t = withTemporal({ name: 'claude-run' });
  after(() => rmSync(home, { recursive: true, force: true }));

  test('every feature passes, each marked by its own agent run through the MCP tools', async () => {
    const projectId = await t.seedProject(
      [
        { id: 1, name: 'Base' },
        { id: 2, name: 'Left', dependencies: [1] },
        { id: 3, name: 'Right', dependencies: [1] },
      ],
      { base: 'claude' },
    );
    const result = await t.runToEnd(projectId, { agent: 'claude', concurrency: 2 }, 120_000);
    assert.equal(result.outcome, 'complete', JSON.stringify(result));
    const marks = await t.db
      .selectFrom('feature_events')
      .select(['feature_id', 'run_id', 'action', 'created_at'])
      .where('project_id', '=', projectId)
      .where('action', '=', 'mark passing')
      .orderBy('feature_id')
      .execute();
    assert.deepEqual(
      marks.map((m) => [m.feature_id, m.run_id]),
      [1, 2, 3].map((id) => [id, `autocoder/${projectId}/coding/${id}/1`]),
    );
    const runs = await t.db
      .selectFrom('agent_runs')
      .select(['id', 'started_at', 'outcome', 'cost_usd', 'session_id', 'tokens'])
      .where('project_id', '=', projectId)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      runs.map((r) => r.outcome),
      ['passed', 'passed', 'passed'],
    );
    // Cost, tokens and the session come from Claude Code's result message, through superviseAgent.
    for (const run of runs) {
      assert.ok(Number(run.cost_usd) > 0, `${run.id} records its cost`);
      assert.match(run.session_id ?? '', /^[0-9a-f-]{36}$/, `${run.id} records its session`);
      assert.ok(run.tokens && Object.keys(run.tokens).length > 0, `${run.id} records its tokens`);
    }
    // #2 and #3 started only after #1 passed.
    const basePassed = marks[0]!.created_at.getTime();
    for (const run of runs.slice(1))
      assert.ok(run.started_at.getTime() >= basePassed, `${run.id} started after #1 passed`);
  });
});
