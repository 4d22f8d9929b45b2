/**
 * The local stack end to end through the real CLI (bin/autocoder as a subprocess): a private state
 * dir and free ports, real Temporal dev server and real embedded Postgres.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { promisify } from 'node:util';
import { loadEnvConfig } from '../../src/config/env.ts';
import { stackDown, stackPaths } from '../../src/stack/index.ts';
import { embeddedDatabaseUrl } from '../../src/stack/postgres.ts';
import { probePostgres } from '../../src/stack/health.ts';
import { isRecordAlive, readRecord, type ProcessRecord } from '../../src/stack/process.ts';
import { resolveTemporalCli } from '../../src/stack/temporal-cli.ts';
import { makeHome, runCli, stackEnv } from './support.ts';

const run = promisify(execFile);

describe('autocoder up / doctor / down on a private stack', () => {
  const { home, remove } = makeHome();
  let env: NodeJS.ProcessEnv;
  let paths: ReturnType<typeof stackPaths>;
  let temporalCli: string;
  let temporalAddress: string;
  const records = () => ({ temporal: readRecord(paths.temporalPidFile), postgres: readRecord(paths.pgPidFile) });

  before(async () => {
    env = await stackEnv(home);
    const cfg = loadEnvConfig(env);
    paths = stackPaths(cfg);
    temporalAddress = `127.0.0.1:${cfg.temporalPort}`;
    // Installs into the shared tools cache on the very first run only.
    temporalCli = (await resolveTemporalCli(cfg, { log: (line) => console.log(line) })).path;
  });

  after(async () => {
    await stackDown(loadEnvConfig(env)).catch(() => undefined);
    remove();
  });

  test('up starts Temporal and Postgres, and both outlive the CLI process', async () => {
    const result = await runCli(['up'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /temporal: started at 127\.0\.0\.1:\d+/);
    assert.match(result.stdout, /postgres: started at 127\.0\.0\.1:\d+/);
    assert.match(result.stdout, /stack is up/);
    const { temporal, postgres } = records();
    assert.ok(isRecordAlive(temporal), 'temporal dev server is alive after the CLI exited');
    assert.ok(isRecordAlive(postgres), 'postgres is alive after the CLI exited');
    const probe = await probePostgres(embeddedDatabaseUrl(paths, postgres.ports.postgres!));
    assert.deepEqual(probe.ok, true, JSON.stringify(probe));
  });

  test('a second up reuses the running servers (same pids)', async () => {
    const before = records();
    const result = await runCli(['up'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /temporal: running at .*reused/);
    assert.match(result.stdout, /postgres: running at .*reused/);
    const now = records();
    assert.equal(now.temporal?.pid, before.temporal?.pid);
    assert.equal(now.postgres?.pid, before.postgres?.pid);
  });

  test('doctor reports every component healthy, with versions and addresses', async () => {
    const text = await runCli(['doctor'], env);
    assert.equal(text.code, 0, text.stdout + text.stderr);
    assert.match(text.stdout, new RegExp(`temporal: ok \\(${temporalAddress.replace(/\./g, '\\.')}\\) server \\d+\\.`));
    assert.match(text.stdout, /postgres: ok \(127\.0\.0\.1:\d+\) PostgreSQL \d+/);
    assert.match(text.stdout, /^runs: ok \(none stuck\)$/m);
    const json = await runCli(['doctor', '--json'], env);
    assert.equal(json.code, 0);
    const report = JSON.parse(json.stdout) as { ok: boolean; components: { name: string; health: string }[] };
    assert.equal(report.ok, true);
    assert.deepEqual(
      report.components.map((c) => `${c.name}=${c.health}`),
      ['temporal-cli=ok', 'temporal=ok', 'temporal-ui=ok', 'postgres=ok'],
    );
  });

  test('our search attributes are registered, and workflows survive a restart of the dev server', async () => {
    const temporal = (...args: string[]) =>
      run(temporalCli, [...args, '--address', temporalAddress], { timeout: 30_000 });
    const attributes = (await temporal('operator', 'search-attribute', 'list', '-o', 'json')).stdout;
    for (const name of ['AutocoderProject', 'AutocoderKind', 'AutocoderFeature'])
      assert.match(attributes, new RegExp(name));

    // A workflow on a task queue nobody polls stays Running: enough to see it persisted.
    await temporal(
      'workflow',
      'start',
      '--task-queue',
      'nobody-polls-this',
      '--type',
      'persistenceCheck',
      '--workflow-id',
      'stack-test/persist',
      '--search-attribute',
      'AutocoderProject="stack-test"',
    );
    const oldPid = records().temporal?.pid;
    assert.equal((await runCli(['down'], env)).code, 0);
    const up = await runCli(['up'], env);
    assert.equal(up.code, 0, up.stderr);
    assert.notEqual(records().temporal?.pid, oldPid, 'a new server process');
    const described = JSON.parse(
      (await temporal('workflow', 'describe', '--workflow-id', 'stack-test/persist', '-o', 'json')).stdout,
    ) as {
      workflowExecutionInfo: { execution: { workflowId: string }; status: string };
    };
    assert.equal(described.workflowExecutionInfo.execution.workflowId, 'stack-test/persist');
    assert.equal(described.workflowExecutionInfo.status, 'WORKFLOW_EXECUTION_STATUS_RUNNING');
  });

  test('down stops both servers; doctor then exits 3 naming what is down and the fix', async () => {
    const { temporal, postgres } = records() as { temporal: ProcessRecord; postgres: ProcessRecord };
    const result = await runCli(['down'], env);
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /temporal: stopped/);
    assert.match(result.stdout, /postgres: stopped/);
    assert.equal(isRecordAlive(temporal), false);
    assert.equal(isRecordAlive(postgres), false);
    assert.equal(existsSync(paths.temporalPidFile), false);

    const doctor = await runCli(['doctor'], env);
    assert.equal(doctor.code, 3);
    assert.match(
      doctor.stdout,
      new RegExp(`temporal: down \\(${temporalAddress.replace(/\./g, '\\.')}\\).*fix: autocoder up`),
    );
    assert.match(doctor.stdout, /postgres: down \(127\.0\.0\.1:\d+\).*fix: autocoder up/);
    assert.match(doctor.stdout, /temporal-cli: ok/);

    const again = await runCli(['down'], env);
    assert.equal(again.code, 0);
    assert.match(again.stdout, /temporal: was not running/);
  });
});
