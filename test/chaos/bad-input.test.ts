/**
 * Scenario 6: a bad-input corpus (feature files, CLI flags, environment, workflow input through
 * the Temporal CLI, signal payloads, update arguments) thrown at a live stack while a run is in
 * progress. Each case gets a clear error (exit 2 with one readable message, a rejected update, or
 * an InvalidInput workflow failure; never a stack trace); the database is unchanged; the run
 * completes normally, every feature passed once.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WorkflowFailedError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { setConcurrencyUpdate, setTestingRatioUpdate, failureTypes } from '../../src/workflows/messages.ts';
import { agentRunsOf, featureRows, queryStatus, repoRoot, waitForResult, withTemporal } from '../support/temporal.ts';
import {
  chaosSuite,
  cliEnv,
  dumpRows,
  hasStackTrace,
  report,
  runCli,
  runProcess,
  temporalCliPath,
  type ProcResult,
} from './support.ts';

type Case = { kind: string; name: string; check: () => Promise<void> };

const suite = chaosSuite();

describe('scenario 6: bad input', suite, () => {
  const t = withTemporal({ name: 'chaos-bad-input' });

  test(
    'every case gets a clear error, the database is unchanged, the run in progress completes',
    { timeout: suite.timeout },
    async () => {
      const home = mkdtempSync(join(tmpdir(), 'ac-chaos-bad-'));
      const liveFeatures = [1, 2, 3]
        .map((id) => ({ id, name: `live ${id}` }))
        .concat([{ id: 4, name: 'after 1', dependencies: [1] } as never]);
      const live = await t.seedProject(liveFeatures, { base: 'live' });
      const victim = await t.seedProject(
        [
          { id: 1, name: 'untouched' },
          { id: 2, name: 'also untouched', dependencies: [1] },
        ],
        { base: 'victim' },
      );
      const handle = await t.startRun(live, {
        concurrency: 3,
        simulate: { default: { action: 'pass', delayMs: 45_000 }, features: { 4: { action: 'pass', delayMs: 300 } } },
      });
      const settingsBefore = (await queryStatus(handle)).settings;
      const before = await dumpRows(t.db, live);
      const env = cliEnv(t, home);
      const temporal = temporalCliPath(t.stack.toolsDir);
      const temporalArgs = ['--address', t.stack.address, '--namespace', t.stack.namespace];
      const dir = join(home, 'project');

      /** exit 2, one message naming `mentions`, no stack trace. */
      const userError = (result: ProcResult, mentions: RegExp) => {
        const text = result.stdout + result.stderr;
        assert.equal(result.code, 2, text);
        assert.match(result.stderr, mentions);
        assert.equal(hasStackTrace(text), false, text);
      };
      const cli = (kind: string, args: string[], mentions: RegExp, extraEnv: NodeJS.ProcessEnv = {}): Case => ({
        kind,
        name: `${args.join(' ')}${Object.keys(extraEnv).length ? ` with ${JSON.stringify(extraEnv)}` : ''}`,
        check: async () => userError(await runCli(args, { ...env, ...extraEnv }), mentions),
      });

      const cases: Case[] = [];
      // Feature files: every fixture of the bad corpus, imported into a project that exists.
      const badDir = join(repoRoot, 'test/fixtures/feature-files/bad');
      for (const file of readdirSync(badDir).sort()) {
        cases.push(
          cli(
            'feature file',
            ['features', 'import', join(badDir, file), '--project', victim],
            /feature file|features|\.json/i,
          ),
        );
      }
      // CLI flags.
      for (const [args, mentions] of [
        [['run', dir, '--project', victim, '--agent', 'simulate', '--detach', '--concurrency', '0'], /--concurrency/],
        [['run', dir, '--project', victim, '--agent', 'simulate', '--detach', '--concurrency', 'abc'], /--concurrency/],
        [
          ['run', dir, '--project', victim, '--agent', 'simulate', '--detach', '--testing-ratio', '9'],
          /--testing-ratio/,
        ],
        [['run', dir, '--project', victim, '--agent', 'simulate', '--detach', '--max-retries', '0'], /--max-retries/],
        [
          ['run', dir, '--project', victim, '--agent', 'simulate', '--detach', '--poll-interval', '5'],
          /--poll-interval/,
        ],
        [['run', dir, '--project', victim, '--agent', 'nope', '--detach'], /--agent|nope/],
        [['run', dir, '--project', 'Bad Id!', '--agent', 'simulate', '--detach'], /--project/],
        [['set', 'concurrency', '99', '--project', live], /concurrency/],
        [['set', 'concurrency', 'a', '--project', live], /concurrency|value/],
        [['set', 'bogus', '1', '--project', live], /bogus|setting/],
        [['set', 'batch-size', '4', '--project', live], /batch-size/],
        [['set', 'testing-batch-size', '0', '--project', live], /testing-batch-size/],
        [['run', dir, '--project', victim, '--agent', 'simulate', '--detach', '--batch-size', '9'], /--batch-size/],
        [['stop-feature', 'x', '--project', live], /feature id/],
        [['stop-feature', '-1', '--project', live], /feature id|-1/],
        [['stop-feature', '0', '--project', live], /feature id/],
        [['retry-feature', '1.5', '--project', live], /feature id/],
        [['features', 'list', '--project', 'Bad Id!'], /project|Bad Id/],
        [['features', 'list', '--project', victim, '--state', 'nope'], /--state|nope/],
        [['features', 'import', join(home, 'missing.json'), '--project', victim], /missing\.json/],
      ] as const)
        cases.push(cli('CLI flag', [...args], mentions));
      // Environment (read by every command that opens the stack, such as status; feature commands
      // with DATABASE_URL need nothing else, so only that variable is checked there).
      const badConfig = join(home, 'bad-config.json');
      writeFileSync(badConfig, '{"concurrency": ');
      for (const [extra, mentions] of [
        [{ AUTOCODER_PG_PORT: 'abc' }, /AUTOCODER_PG_PORT/],
        [{ AUTOCODER_TEMPORAL_PORT: '70000' }, /AUTOCODER_TEMPORAL_PORT/],
        [{ AUTOCODER_CONFIG: join(home, 'no-such-config.json') }, /no-such-config\.json/],
        [{ AUTOCODER_CONFIG: badConfig }, /bad-config\.json/],
        [{ AUTOCODER_TASK_QUEUE: 'two words' }, /AUTOCODER_TASK_QUEUE/],
      ] as const)
        cases.push(cli('environment', ['status', live], mentions, extra));
      cases.push(
        cli('environment', ['features', 'list', '--project', victim], /DATABASE_URL/, { DATABASE_URL: 'not a url' }),
      );

      // Workflow input through the Temporal CLI: the workflow fails at once, InvalidInput naming the field.
      for (const [input, field] of [
        ['{}', /projectId/],
        ['"just a string"', /input|expected object/],
        [JSON.stringify({ projectId: 'Bad Id!', projectDir: dir }), /projectId/],
        [JSON.stringify({ projectId: victim, projectDir: '' }), /projectDir/],
        [JSON.stringify({ projectId: victim, projectDir: dir, concurrency: 0 }), /concurrency/],
        [JSON.stringify({ projectId: victim, projectDir: dir, concurrency: 9 }), /concurrency/],
        [JSON.stringify({ projectId: victim, projectDir: dir, agent: 'rm -rf /' }), /agent/],
        [JSON.stringify({ projectId: victim, projectDir: dir, surprise: true }), /surprise/],
      ] as const) {
        cases.push({
          kind: 'workflow input',
          name: input,
          check: async () => {
            const workflowId = `chaos-bad-input/${cases.length}-${Math.random().toString(36).slice(2, 8)}`;
            const started = await runProcess(
              temporal,
              [
                'workflow',
                'start',
                ...temporalArgs,
                '--task-queue',
                t.taskQueue,
                '--type',
                'projectRun',
                '--workflow-id',
                workflowId,
                '--input',
                input,
              ],
              env,
            );
            assert.equal(started.code, 0, started.stderr);
            const err: unknown = await t.client.workflow
              .getHandle(workflowId)
              .result()
              .then(
                () => null,
                (e: unknown) => e,
              );
            assert.ok(err instanceof WorkflowFailedError, `the workflow failed (${String(err)})`);
            assert.ok(
              err.cause instanceof ApplicationFailure && err.cause.type === failureTypes.invalidInput,
              `InvalidInput, got ${String(err.cause)}`,
            );
            assert.equal(err.cause.nonRetryable, true);
            assert.match(err.cause.message, field);
          },
        });
      }

      // Signal payloads: ignored with a warning (a signal cannot answer); the run must not change.
      for (const [name, input] of [
        ['stopFeature', '"x"'],
        ['stopFeature', '-1'],
        ['stopFeature', '1.5'],
        ['stopFeature', 'null'],
        ['retryFeature', '"x"'],
        ['retryFeature', '0'],
        ['agentFinished', '{"workflowId": 1}'],
        ['agentFinished', '"garbage"'],
      ] as const) {
        cases.push({
          kind: 'signal payload',
          name: `${name} ${input}`,
          check: async () => {
            const sent = await runProcess(
              temporal,
              [
                'workflow',
                'signal',
                ...temporalArgs,
                '--workflow-id',
                handle.workflowId,
                '--name',
                name,
                '--input',
                input,
              ],
              env,
            );
            assert.equal(sent.code, 0, sent.stderr);
          },
        });
      }

      // Update arguments: rejected by the validator, before anything is written to history.
      for (const [update, arg, mentions] of [
        [setConcurrencyUpdate, 0, /concurrency must be an integer in 1\.\.5, got 0/],
        [setConcurrencyUpdate, 99, /got 99/],
        [setConcurrencyUpdate, 'a', /got "a"/],
        [setConcurrencyUpdate, 2.5, /got 2\.5/],
        [setConcurrencyUpdate, null, /got null/],
        [setTestingRatioUpdate, -1, /testingRatio must be an integer in 0\.\.3, got -1/],
        [setTestingRatioUpdate, 4, /got 4/],
      ] as const) {
        cases.push({
          kind: 'update argument',
          name: `${update.name} ${JSON.stringify(arg)}`,
          check: async () => {
            const err: unknown = await handle.executeUpdate(update, { args: [arg as number] }).then(
              () => null,
              (e: unknown) => e,
            );
            assert.ok(err instanceof WorkflowUpdateFailedError, `rejected (${String(err)})`);
            assert.match(String((err.cause as Error | undefined)?.message), mentions);
          },
        });
      }
      // The same through the Temporal CLI.
      cases.push({
        kind: 'update argument',
        name: 'temporal workflow update execute setConcurrency "a"',
        check: async () => {
          const sent = await runProcess(
            temporal,
            [
              'workflow',
              'update',
              'execute',
              ...temporalArgs,
              '--workflow-id',
              handle.workflowId,
              '--name',
              'setConcurrency',
              '--input',
              '"a"',
            ],
            env,
          );
          assert.notEqual(sent.code, 0);
          assert.match(sent.stdout + sent.stderr, /concurrency must be an integer in 1\.\.5, got "a"/);
        },
      });

      assert.ok(cases.length >= 30, `${cases.length} cases`);
      const failures: string[] = [];
      const byKind = new Map<string, number>();
      // Two at a time: the machine has two cores.
      for (let i = 0; i < cases.length; i += 2) {
        await Promise.all(
          cases.slice(i, i + 2).map(async (c) => {
            byKind.set(c.kind, (byKind.get(c.kind) ?? 0) + 1);
            try {
              await c.check();
            } catch (err) {
              failures.push(`${c.kind}: ${c.name}\n    ${(err as Error).message.split('\n').join('\n    ')}`);
            }
          }),
        );
      }
      const description = await handle.describe();
      assert.equal(description.status.name, 'RUNNING', 'the run was still in progress during the whole corpus');
      assert.deepEqual(failures, [], `${failures.length} of ${cases.length} cases:\n${failures.join('\n')}`);
      assert.equal(await dumpRows(t.db, live), before, 'the database is unchanged');

      const status = await queryStatus(handle);
      assert.deepEqual(status.settings, settingsBefore, 'settings unchanged');
      assert.deepEqual(status.held, [], 'no feature held');
      const result = await waitForResult(handle, 120_000);
      assert.equal(result.outcome, 'complete', result.message);
      assert.equal(result.counts.passing, 4);
      const runs = await agentRunsOf(t.db, live, 'coding');
      assert.deepEqual(runs.map((r) => [r.feature_id, r.outcome]).sort(), [
        [1, 'passed'],
        [2, 'passed'],
        [3, 'passed'],
        [4, 'passed'],
      ]);
      assert.ok((await featureRows(t.db, live)).every((f) => f.failure_count === 0));
      report('bad-input', { cases: cases.length, ...Object.fromEntries(byKind), failures: failures.length });
      rmSync(home, { recursive: true, force: true });
    },
  );
});
