import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { envSchema, envVarNames, loadEnvConfig, redactUrl, workerVersionOf } from '../../src/config/env.ts';
import { UserError } from '../../src/errors.ts';

function problemsOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof UserError, `expected a UserError, got ${String(error)}`);
    return error.message;
  }
  assert.fail('expected an error');
}

describe('loadEnvConfig', () => {
  test('defaults', () => {
    const cfg = loadEnvConfig({});
    assert.deepEqual(cfg, {
      home: join(homedir(), '.autocoder'),
      toolsDir: join(homedir(), '.autocoder', 'tools'),
      databaseUrl: undefined,
      temporalAddress: undefined,
      temporalNamespace: 'default',
      temporalCli: undefined,
      temporalPort: 7233,
      temporalUiPort: 8233,
      pgPort: 54329,
      taskQueue: 'autocoder',
      hostId: hostname(),
      deploymentName: undefined,
      buildId: undefined,
      workflowStackTraces: false,
      uiToken: undefined,
      timeZone: 'UTC',
      dailyBudgetUsd: undefined,
      notifyUrl: undefined,
    });
  });

  test('AUTOCODER_TZ is an IANA zone and AUTOCODER_DAILY_BUDGET_USD a positive amount, named with the fix', () => {
    const cfg = loadEnvConfig({ AUTOCODER_TZ: 'Europe/Lisbon', AUTOCODER_DAILY_BUDGET_USD: '12.50' });
    assert.deepEqual([cfg.timeZone, cfg.dailyBudgetUsd], ['Europe/Lisbon', 12.5]);
    assert.throws(() => loadEnvConfig({ AUTOCODER_TZ: 'Mars/Olympus' }), /AUTOCODER_TZ must be an IANA time zone/);
    assert.throws(
      () => loadEnvConfig({ AUTOCODER_DAILY_BUDGET_USD: '-3' }),
      /AUTOCODER_DAILY_BUDGET_USD must be a positive number of USD such as 25 or 12.50, got "-3"/,
    );
  });

  test('AUTOCODER_DEPLOYMENT and AUTOCODER_BUILD_ID: both or neither, each checked, named with the fix', () => {
    const cfg = loadEnvConfig({ AUTOCODER_DEPLOYMENT: 'autocoder', AUTOCODER_BUILD_ID: 'v0.4.0' });
    assert.deepEqual(workerVersionOf(cfg), { deploymentName: 'autocoder', buildId: 'v0.4.0' });
    assert.equal(workerVersionOf(loadEnvConfig({})), undefined);
    const flags = loadEnvConfig({}, { deploymentName: 'autocoder', buildId: '1.0.0-rc.1+build.5' });
    assert.deepEqual(workerVersionOf(flags), { deploymentName: 'autocoder', buildId: '1.0.0-rc.1+build.5' });
    assert.match(
      problemsOf(() => loadEnvConfig({ AUTOCODER_BUILD_ID: 'v1' })),
      /AUTOCODER_BUILD_ID \(or --build-id\) is "v1" but AUTOCODER_DEPLOYMENT \(or --deployment\) is not set; a versioned worker needs both/,
    );
    assert.match(
      problemsOf(() => loadEnvConfig({}, { deploymentName: 'autocoder' })),
      /--deployment is "autocoder" but AUTOCODER_BUILD_ID \(or --build-id\) is not set/,
    );
    // Temporal joins them as <name>:<build id> and refuses a name with a dot.
    const bad = problemsOf(() => loadEnvConfig({ AUTOCODER_DEPLOYMENT: 'auto.coder', AUTOCODER_BUILD_ID: 'v1:2' }));
    assert.match(
      bad,
      /AUTOCODER_DEPLOYMENT \(or --deployment\) must be 1-100 letters, digits, dashes or underscores.*got "auto\.coder"/,
    );
    assert.match(
      bad,
      /AUTOCODER_BUILD_ID \(or --build-id\) must be 1-100 letters, digits, dots, dashes, underscores or \+.*got "v1:2"/,
    );
  });

  test('AUTOCODER_WORKFLOW_STACK_TRACES is 0 or 1, and anything else is named with the fix', () => {
    assert.equal(loadEnvConfig({ AUTOCODER_WORKFLOW_STACK_TRACES: '1' }).workflowStackTraces, true);
    assert.equal(loadEnvConfig({ AUTOCODER_WORKFLOW_STACK_TRACES: '0' }).workflowStackTraces, false);
    assert.throws(
      () => loadEnvConfig({ AUTOCODER_WORKFLOW_STACK_TRACES: 'yes' }),
      /AUTOCODER_WORKFLOW_STACK_TRACES must be 0 or 1, got "yes"/,
    );
  });

  test('environment values, empty ones meaning unset, and flags winning over the environment', () => {
    const cfg = loadEnvConfig(
      {
        AUTOCODER_HOME: '/srv/ac',
        AUTOCODER_TEMPORAL_PORT: '7300',
        AUTOCODER_PG_PORT: '',
        DATABASE_URL: '',
        TEMPORAL_ADDRESS: 'temporal:7233',
        AUTOCODER_TASK_QUEUE: 'q1',
      },
      { temporalPort: 7400, temporalUiPort: '8400' },
    );
    assert.equal(cfg.home, '/srv/ac');
    assert.equal(cfg.toolsDir, '/srv/ac/tools');
    assert.equal(cfg.temporalPort, 7400);
    assert.equal(cfg.temporalUiPort, 8400);
    assert.equal(cfg.pgPort, 54329);
    assert.equal(cfg.databaseUrl, undefined);
    assert.equal(cfg.temporalAddress, 'temporal:7233');
    assert.equal(cfg.taskQueue, 'q1');
    assert.equal(loadEnvConfig({ AUTOCODER_HOME: '~/x' }).home, join(homedir(), 'x'));
    assert.equal(loadEnvConfig({ TEMPORAL_ADDRESS: '[::1]:7233' }).temporalAddress, '[::1]:7233');
  });

  test('every problem is reported at once, naming the variable or flag, the value and never the password', () => {
    const message = problemsOf(() =>
      loadEnvConfig(
        {
          AUTOCODER_PG_PORT: '99999',
          DATABASE_URL: 'mysql://root:topsecret@db/x',
          TEMPORAL_ADDRESS: 'temporal',
          TEMPORAL_NAMESPACE: 'bad name',
        },
        { temporalPort: 'abc' },
      ),
    );
    assert.match(message, /5 problems/);
    assert.match(message, /--temporal-port must be a TCP port number 1-65535, got "abc"/);
    assert.match(message, /AUTOCODER_PG_PORT \(or --pg-port\) must be a TCP port number 1-65535, got "99999"/);
    assert.match(message, /DATABASE_URL must be a postgres:\/\/ URL.*got "mysql:\/\/root:\*\*\*@db\/x"/);
    assert.match(message, /TEMPORAL_ADDRESS must be host:port.*got "temporal"/);
    assert.match(message, /TEMPORAL_NAMESPACE must be a Temporal namespace name.*got "bad name"/);
    assert.doesNotMatch(message, /topsecret/);
  });

  test('AUTOCODER_HOST_ID: default the hostname; a bad one is refused naming the variable, the value and the rule', () => {
    assert.equal(loadEnvConfig({}).hostId, hostname());
    assert.equal(loadEnvConfig({ AUTOCODER_HOST_ID: 'build-2.eu' }).hostId, 'build-2.eu');
    for (const bad of ['has space', '-leading', 'a/b', 'x'.repeat(64)]) {
      const message = problemsOf(() => loadEnvConfig({ AUTOCODER_HOST_ID: bad }));
      assert.match(message, /AUTOCODER_HOST_ID must be 1-63 letters, digits, dots, dashes or underscores/);
      assert.ok(message.includes(JSON.stringify(bad)), `${message} shows ${bad}`);
    }
  });

  test('the three local ports must differ', () => {
    assert.match(
      problemsOf(() => loadEnvConfig({ AUTOCODER_PG_PORT: '7233' })),
      /AUTOCODER_TEMPORAL_PORT \(or --temporal-port\) and AUTOCODER_PG_PORT \(or --pg-port\) are both 7233/,
    );
  });

  test('the schema is keyed by the real variable names (docker-compose is checked against it)', () => {
    assert.deepEqual(Object.keys(envSchema.shape).sort(), [...envVarNames].sort());
    for (const name of [
      'AUTOCODER_HOME',
      'DATABASE_URL',
      'TEMPORAL_ADDRESS',
      'TEMPORAL_NAMESPACE',
      'AUTOCODER_TEMPORAL_PORT',
      'AUTOCODER_TEMPORAL_UI_PORT',
      'AUTOCODER_PG_PORT',
      'AUTOCODER_TASK_QUEUE',
      'AUTOCODER_TOOLS_DIR',
      'TEMPORAL_CLI',
    ]) {
      assert.ok(envVarNames.includes(name as never), name);
    }
  });
});

describe('redactUrl', () => {
  test('hides passwords and secret-looking parameters, keeps the rest', () => {
    assert.equal(redactUrl('postgres://me:s3cr%40t@db:5432/autocoder'), 'postgres://me:***@db:5432/autocoder');
    assert.equal(
      redactUrl('postgres://db/x?sslmode=require&password=abc'),
      'postgres://db/x?sslmode=require&password=***',
    );
    assert.equal(redactUrl('postgres://me@db/x'), 'postgres://me@db/x');
    assert.equal(redactUrl('not a url //me:pw@host'), 'not a url //me:***@host');
  });
});

describe('config file', () => {
  const withFile = (content: string) => {
    const home = mkdtempSync(join(tmpdir(), 'ac-config-'));
    writeFileSync(join(home, 'config.json'), content);
    return { home, done: () => rmSync(home, { recursive: true, force: true }) };
  };

  test('sits below the environment and flags, above the defaults', () => {
    const { home, done } = withFile(
      JSON.stringify({ AUTOCODER_PG_PORT: 54400, AUTOCODER_TEMPORAL_PORT: 7300, AUTOCODER_TASK_QUEUE: 'from-file' }),
    );
    try {
      const cfg = loadEnvConfig({ AUTOCODER_HOME: home, AUTOCODER_TEMPORAL_PORT: '7400' }, { pgPort: 54500 });
      assert.equal(cfg.pgPort, 54500, 'flag beats file');
      assert.equal(cfg.temporalPort, 7400, 'environment beats file');
      assert.equal(cfg.taskQueue, 'from-file', 'file beats default');
      assert.equal(cfg.temporalUiPort, 8233, 'default');
    } finally {
      done();
    }
  });

  test("AUTOCODER_UI_TOKEN comes from the file too, and a bad one's value is never shown", () => {
    const token = 'from-the-file-0123456789';
    const { home, done } = withFile(JSON.stringify({ AUTOCODER_UI_TOKEN: token }));
    try {
      assert.equal(loadEnvConfig({ AUTOCODER_HOME: home }).uiToken, token);
      assert.equal(loadEnvConfig({ AUTOCODER_HOME: home, AUTOCODER_UI_TOKEN: '' }).uiToken, token, 'empty means unset');
      const message = problemsOf(() => loadEnvConfig({ AUTOCODER_HOME: home, AUTOCODER_UI_TOKEN: 'short secret' }));
      assert.match(message, /AUTOCODER_UI_TOKEN must be at least 16 characters, got a value \(not shown/);
      assert.doesNotMatch(message, /short secret/);
    } finally {
      done();
    }
  });

  test("AUTOCODER_NOTIFY_URL: from the file, the flag wins, and a bad one's value is never shown", () => {
    const url = 'https://hooks.example.com/services/T0/B0/secret-part';
    const { home, done } = withFile(JSON.stringify({ AUTOCODER_NOTIFY_URL: url }));
    try {
      assert.equal(loadEnvConfig({ AUTOCODER_HOME: home }).notifyUrl, url);
      assert.equal(
        loadEnvConfig({ AUTOCODER_HOME: home }, { notifyUrl: 'http://127.0.0.1:9/x' }).notifyUrl,
        'http://127.0.0.1:9/x',
      );
      const message = problemsOf(() => loadEnvConfig({ AUTOCODER_HOME: home }, { notifyUrl: 'ftp://secret-host/x' }));
      assert.match(message, /--notify-url must be an http\(s\) URL, got a value \(not shown/);
      assert.doesNotMatch(message, /secret-host/);
    } finally {
      done();
    }
  });

  test('reports every problem with the file path and the key', () => {
    const { home, done } = withFile(
      JSON.stringify({ AUTOCODER_PG_PORT: 'abc', NOPE: 1, AUTOCODER_HOME: '/x', AUTOCODER_TASK_QUEUE: { a: 1 } }),
    );
    try {
      const message = problemsOf(() => loadEnvConfig({ AUTOCODER_HOME: home }));
      assert.match(message, /AUTOCODER_PG_PORT in .*config\.json must be a TCP port number 1-65535, got "abc"/);
      assert.match(message, /unknown setting "NOPE"/);
      assert.match(message, /unknown setting "AUTOCODER_HOME"/);
      assert.match(message, /AUTOCODER_TASK_QUEUE must be a string or a number/);
    } finally {
      done();
    }
  });

  test('bad JSON and a missing AUTOCODER_CONFIG file are named', () => {
    const { home, done } = withFile('{ "AUTOCODER_PG_PORT": ');
    try {
      assert.match(
        problemsOf(() => loadEnvConfig({ AUTOCODER_HOME: home })),
        /config\.json is not valid JSON/,
      );
      assert.match(
        problemsOf(() => loadEnvConfig({ AUTOCODER_HOME: home, AUTOCODER_CONFIG: join(home, 'missing.json') })),
        /AUTOCODER_CONFIG names .*missing\.json.*does not exist/,
      );
    } finally {
      done();
    }
  });
});
