/**
 * The claude adapter's parts without processes: the argv, prompts (built-in and per project),
 * and readClaudeResult on real Claude Code output and on awkward logs.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentSpec } from '../../src/activities/types.ts';
import { agentEnvironment, buildLaunch } from '../../src/agents/adapters.ts';
import { ALL_FEATURE_TOOLS, FEATURE_TOOLS_BY_KIND, buildClaudeLaunch } from '../../src/agents/claude.ts';
import { projectPromptPath } from '../../src/agents/claude-prompts.ts';
import { readClaudeResult } from '../../src/agents/claude-result.ts';
import { UserError } from '../../src/errors.ts';
import { FEATURE_TOOL_NAMES } from '../../src/mcp/server.ts';

const work = mkdtempSync(join(tmpdir(), 'ac-claude-parts-'));
after(() => rmSync(work, { recursive: true, force: true }));
const realOutput = fileURLToPath(new URL('../fixtures/fake-claude/real-2.1.332-not-logged-in.jsonl', import.meta.url));

const spec = (over: Partial<AgentSpec> = {}): AgentSpec => ({
  projectId: 'todo',
  projectDir: join(work, 'todo'),
  kind: 'coding',
  featureId: 7,
  featureName: 'Sort the list',
  attempt: 1,
  adapter: 'claude',
  yolo: false,
  timeoutMs: 1000,
  ...over,
});
const ctx = {
  runId: 'autocoder/todo/coding/7/1',
  databaseUrl: 'postgres://u:p@db:5432/app',
  stateDir: join(work, 'state'),
};

describe('claude argv', () => {
  test('flags as Claude Code 2.1 takes them, the prompt last after --', () => {
    const launch = buildLaunch(spec({ model: 'opus' }), ctx);
    const argv = launch.argv;
    assert.equal(argv[0], 'claude');
    assert.equal(argv[1], '-p');
    const at = (flag: string) => argv[argv.indexOf(flag) + 1];
    assert.equal(at('--output-format'), 'stream-json');
    assert.ok(argv.includes('--verbose'), 'stream-json with -p needs --verbose');
    assert.equal(at('--session-id'), launch.sessionId);
    assert.match(launch.sessionId ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.equal(at('--mcp-config'), join(ctx.stateDir, 'mcp', 'autocoder__todo__coding__7__1.json'));
    assert.ok(argv.includes('--strict-mcp-config'));
    assert.equal(at('--model'), 'opus');
    assert.equal(argv.at(-2), '--');
    assert.match(argv.at(-1) ?? '', /feature #7: Sort the list/);
    for (const absent of ['--resume', '--fork-session', '--max-budget-usd', '--dangerously-skip-permissions'])
      assert.ok(!argv.includes(absent), absent);
    assert.equal(launch.cwd, spec().projectDir);
  });

  test('each kind gets its own feature tools; the rest are hidden', () => {
    assert.deepEqual(
      [...ALL_FEATURE_TOOLS].sort(),
      [...FEATURE_TOOL_NAMES].sort(),
      'the adapter knows every tool the server has',
    );
    for (const kind of ['coding', 'testing', 'initializer'] as const) {
      const { argv } = buildClaudeLaunch(spec({ kind }), ctx.runId, {}, { stateDir: ctx.stateDir });
      const allowed = argv[argv.indexOf('--allowedTools') + 1]!.split(',');
      const hidden = argv[argv.indexOf('--disallowedTools') + 1]!.split(',');
      const feature = allowed
        .filter((t) => t.startsWith('mcp__features__'))
        .map((t) => t.slice('mcp__features__'.length));
      assert.deepEqual(feature, [...FEATURE_TOOLS_BY_KIND[kind]]);
      assert.ok(allowed.includes('Bash') && allowed.includes('Edit'));
      assert.deepEqual(
        [...feature, ...hidden.map((t) => t.slice('mcp__features__'.length))].sort(),
        [...ALL_FEATURE_TOOLS].sort(),
      );
    }
  });

  test("a person's answer reaches the next agent: environment and prompt", () => {
    const humanAnswer = { question: 'Which colour?', answer: 'blue' };
    const launch = buildLaunch(spec({ attempt: 2 }), { ...ctx, humanAnswer });
    assert.deepEqual(
      [launch.env.AUTOCODER_HUMAN_QUESTION, launch.env.AUTOCODER_HUMAN_ANSWER],
      ['Which colour?', 'blue'],
    );
    assert.match(
      launch.argv.at(-1) ?? '',
      /A person answered the question asked for this feature\n\nQuestion: Which colour\?\nAnswer: blue/,
    );
    const command = buildLaunch(spec({ adapter: 'command', agentCmd: ['/bin/true'] }), { ...ctx, humanAnswer });
    assert.equal(command.env.AUTOCODER_HUMAN_ANSWER, 'blue');
    const none = buildLaunch(spec(), ctx);
    assert.equal(none.env.AUTOCODER_HUMAN_ANSWER, undefined, 'no answer, no variable');
    assert.doesNotMatch(none.argv.at(-1) ?? '', /A person answered/);
  });

  test('resume, budget and Temporal come from the launch context', () => {
    const launch = buildLaunch(spec({ attempt: 2 }), {
      ...ctx,
      resumeSessionId: '0b6f5f7e-8a5b-4c1e-9d2a-3f4e5a6b7c8d',
      maxBudgetUsd: 0.75,
      temporalAddress: 'temporal:7233',
      temporalNamespace: 'prod',
    });
    const at = (flag: string) => launch.argv[launch.argv.indexOf(flag) + 1];
    assert.equal(at('--resume'), '0b6f5f7e-8a5b-4c1e-9d2a-3f4e5a6b7c8d');
    assert.ok(launch.argv.includes('--fork-session'), '--session-id with --resume needs --fork-session');
    assert.equal(at('--max-budget-usd'), '0.75');
    assert.deepEqual([launch.env.TEMPORAL_ADDRESS, launch.env.TEMPORAL_NAMESPACE], ['temporal:7233', 'prod']);
    assert.match(launch.argv.at(-1) ?? '', /attempt 2: you are continuing your earlier session/);
    assert.equal(agentEnvironment(spec(), ctx).TEMPORAL_ADDRESS, undefined, 'no Temporal variables unless given');
    for (const bad of [0, -1, Number.NaN])
      assert.throws(() => buildLaunch(spec(), { ...ctx, maxBudgetUsd: bad }), TypeError);
  });
});

describe('claude prompts', () => {
  test('built-in prompts per kind; yolo changes how to verify; later attempts say so', () => {
    const coding = buildLaunch(spec(), ctx).argv.at(-1)!;
    assert.match(coding, /`feature_claim_and_get` with feature_id 7\./);
    assert.match(coding, /in a browser if it has a user interface/);
    assert.doesNotMatch(coding, /This is attempt/);
    assert.doesNotMatch(coding, /\{\{/);
    assert.match(buildLaunch(spec({ yolo: true }), ctx).argv.at(-1)!, /skip browser testing \(YOLO mode\)/);
    assert.match(
      buildLaunch(spec({ attempt: 3 }), ctx).argv.at(-1)!,
      /This is attempt 3: an earlier attempt did not finish this feature/,
    );
    assert.match(buildLaunch(spec({ kind: 'testing' }), ctx).argv.at(-1)!, /feature_mark_failing/);
    assert.match(
      buildLaunch(spec({ kind: 'initializer', featureId: null, featureName: '' }), ctx).argv.at(-1)!,
      /feature_create_bulk/,
    );
  });

  test("a project's own prompt wins; a broken one is a clear error", () => {
    const projectDir = join(work, 'own-prompts');
    const own = projectPromptPath(projectDir, 'coding');
    mkdirSync(join(projectDir, '.autocoder', 'prompts'), { recursive: true });
    writeFileSync(own, 'Build {{ featureName }} (#{{featureId}}) in {{projectDir}}; keep {{literal braces}}.\n');
    assert.equal(
      buildLaunch(spec({ projectDir, featureName: 'Use {{projectId}} verbatim' }), ctx).argv.at(-1),
      `Build Use {{projectId}} verbatim (#7) in ${projectDir}; keep {{literal braces}}.\n`,
    );
    writeFileSync(own, 'Do {{feature_name}} and {{featureid}}\n');
    assert.throws(
      () => buildLaunch(spec({ projectDir }), ctx),
      (error: unknown) =>
        error instanceof UserError &&
        error.message.includes(own) &&
        /unknown placeholders "\{\{feature_name\}\}", "\{\{featureid\}\}"/.test(error.message) &&
        /\{\{featureName\}\}/.test(error.hint ?? ''),
    );
    writeFileSync(own, '  \n');
    assert.throws(() => buildLaunch(spec({ projectDir }), ctx), /is empty/);
    // Other kinds still use the built-in prompt.
    assert.match(buildLaunch(spec({ projectDir, kind: 'testing' }), ctx).argv.at(-1)!, /testing agent/);
  });
});

describe('readClaudeResult', () => {
  test('reads the result message of real Claude Code 2.1.332 output', async () => {
    const result = await readClaudeResult(realOutput);
    assert.deepEqual(result, {
      found: true,
      sessionId: '652a6ff9-91bd-4e08-9522-2cb7609c333a',
      costUsd: 0,
      tokens: { input_tokens: 0, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 0 },
      isError: true,
      subtype: 'success',
      numTurns: 1,
      durationMs: 186,
      result: 'Not logged in · Please run /login',
      // An error result of subtype success that is no rate limit: not a limit.
      limits: { limit: null, warning: null },
    });
  });

  test('skips notes, stderr and broken lines; the last result wins', async () => {
    const log = join(work, 'mixed.log');
    writeFileSync(
      log,
      [
        '--- autocoder supervisor 2026-11-29T16:00:00.000Z: starting "claude" with 20 argument(s)',
        JSON.stringify({ type: 'system', subtype: 'init', session_id: 's-1' }),
        'Warning: something on stderr {not json',
        '{"type":"result","session_id":"s-1","total_cost_usd":0.5,"usage":{"input_tokens":1',
        JSON.stringify({
          type: 'result',
          subtype: 'success',
          is_error: false,
          session_id: 's-1',
          total_cost_usd: 0.25,
          num_turns: 4,
          usage: { input_tokens: 10, output_tokens: 5, server_tool_use: { web_search_requests: 1 } },
          result: 'x'.repeat(3000),
        }),
        JSON.stringify({
          type: 'result',
          subtype: 'error_max_budget_usd',
          is_error: true,
          session_id: 's-1',
          total_cost_usd: 1.5,
          num_turns: 9,
          usage: { input_tokens: 20, output_tokens: 7 },
          errors: ['budget reached'],
        }),
        '--- autocoder supervisor 2026-11-29T16:05:00.000Z: agent exited with code 1',
        '',
      ].join('\n'),
    );
    const result = await readClaudeResult(log);
    assert.deepEqual(
      [result.found, result.subtype, result.isError, result.costUsd, result.numTurns, result.result],
      [true, 'error_max_budget_usd', true, 1.5, 9, 'budget reached'],
    );
    assert.deepEqual(result.tokens, { input_tokens: 20, output_tokens: 7 });
    writeFileSync(
      log,
      JSON.stringify({ type: 'result', subtype: 'success', session_id: 's-2', result: 'y'.repeat(3000) }),
    );
    assert.equal((await readClaudeResult(log)).result?.length, 2000);
  });

  test('without a result message: the session id still, from the start of a long log', async () => {
    const log = join(work, 'crashed.log');
    const filler = `${JSON.stringify({ type: 'assistant', message: { content: [{ type: 'text', text: 'z'.repeat(1000) }] } })}\n`;
    writeFileSync(
      log,
      `${JSON.stringify({ type: 'system', subtype: 'init', session_id: 'early-session' })}\n${filler.repeat(9000)}Segmentation fault\n`,
    );
    assert.deepEqual(await readClaudeResult(log), {
      found: false,
      sessionId: 'early-session',
      costUsd: null,
      tokens: null,
      isError: null,
      subtype: null,
      numTurns: null,
      durationMs: null,
      result: null,
      limits: { limit: null, warning: null },
    });
    assert.equal((await readClaudeResult(join(work, 'no-such.log'))).found, false);
  });
});
