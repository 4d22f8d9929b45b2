/**
 * Policy files and the hook command, as real processes: a project file that adds a command lets
 * `autocoder guard bash` allow it; a file that tries to allow a blocked command stops
 * `autocoder run` at start with exit 2 naming the file and line, before anything is written.
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readPolicyFile } from '../../src/guard/policy-files.ts';
import { checkSandboxTools, formatSandboxCheck } from '../../src/guard/sandbox-check.ts';

const bin = fileURLToPath(new URL('../../bin/autocoder', import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'ac-policy-files-'));
after(() => rmSync(work, { recursive: true, force: true }));
const sample = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/fake-claude/hook-input-bash.json', import.meta.url)), 'utf8'),
) as Record<string, unknown>;

function project(name: string, policy?: string): string {
  const dir = join(work, name);
  mkdirSync(join(dir, '.autocoder'), { recursive: true });
  if (policy !== undefined) writeFileSync(join(dir, '.autocoder', 'allowed-commands.yaml'), policy);
  return dir;
}
const home = join(work, 'home');
mkdirSync(home, { recursive: true });

function hook(dir: string, command: string, policy = 'strict') {
  const input = { ...sample, cwd: dir, tool_input: { command, description: 'x' } };
  return spawnSync(bin, ['guard', 'bash', '--policy', policy], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    env: { PATH: process.env.PATH, HOME: process.env.HOME, AUTOCODER_PROJECT_DIR: dir, AUTOCODER_HOME: home },
  });
}

describe('policy files', () => {
  test('a project file that adds a command makes the hook allow it (exit 0); others stay blocked (exit 2)', () => {
    const dir = project(
      'swift-app',
      'version: 1\ncommands:\n  - name: swift\n    description: Swift compiler\n  - name: swift*\n',
    );
    assert.equal(hook(dir, 'swift build').status, 0);
    assert.equal(hook(dir, 'swiftlint --strict').status, 0);
    const rust = hook(dir, 'rustc main.rs');
    assert.equal(rust.status, 2);
    assert.match(rust.stderr, /Command 'rustc' is not allowed/);
    const none = project('plain');
    assert.equal(hook(none, 'swift build').status, 2);
  });

  test('a blocked command in the project file stops `autocoder run` at start: exit 2, file and line named', () => {
    const dir = project('sneaky', 'version: 1\ncommands:\n  - name: jq\n  - name: sudo\n    description: please\n');
    const run = spawnSync(bin, ['run', dir, '--agent', 'claude'], {
      encoding: 'utf8',
      env: { PATH: process.env.PATH, HOME: process.env.HOME, AUTOCODER_HOME: home },
    });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr, /allowed-commands\.yaml, line 4: 'sudo' is on the blocked list and cannot be allowed/);
  });

  test('the same limits for the user file: patterns that match a blocked command, bare *, too many, bad names', () => {
    const file = (text: string) => {
      const path = join(work, `f-${Math.random().toString(36).slice(2)}.yaml`);
      writeFileSync(path, text);
      return path;
    };
    assert.throws(
      () => readPolicyFile(file('version: 1\ncommands:\n  - name: su*\n')),
      /line 3: 'su\*' is on the blocked list \(it would match sudo, su\)/,
    );
    assert.throws(() => readPolicyFile(file('version: 1\ncommands:\n  - name: "*"\n')), /line 3/);
    assert.throws(() => readPolicyFile(file('version: 2\n')), /line 1: version: must be 1/);
    assert.throws(() => readPolicyFile(file('version: 1\npkill_processes: [".*"]\n')), /line 2: pkill_processes.0/);
    assert.throws(() => readPolicyFile(file('invalid: yaml: content:')), /not valid YAML/);
    const many = `version: 1\ncommands:\n${Array.from({ length: 101 }, (_, i) => `  - name: cmd${i}`).join('\n')}\n`;
    assert.throws(() => readPolicyFile(file(many)), /at most 100 commands/);
    assert.deepEqual(
      readPolicyFile(file('version: 1\npkill_processes: [my-app, node.js]\nblocked_commands: [terraform]\n')),
      {
        commands: [],
        pkillProcesses: ['my-app', 'node.js'],
        blocked: ['terraform'],
      },
    );
  });

  test('the hook fails closed: no dir, bad input, a bad policy name all exit 2', () => {
    const dir = project('closed');
    const noDir = spawnSync(bin, ['guard', 'bash'], {
      input: JSON.stringify(sample),
      encoding: 'utf8',
      env: { PATH: process.env.PATH },
    });
    assert.equal(noDir.status, 2);
    assert.equal(hook(dir, 'ls', 'lenient').status, 2);
    const garbage = spawnSync(bin, ['guard', 'bash'], {
      input: 'not json',
      encoding: 'utf8',
      env: { PATH: process.env.PATH, AUTOCODER_PROJECT_DIR: dir },
    });
    assert.equal(garbage.status, 2);
    assert.match(garbage.stderr, /not JSON/);
  });
});

describe('the sandbox check of doctor', () => {
  test('finds bubblewrap and socat on PATH, and names the missing ones with the fix', () => {
    const found = checkSandboxTools('linux');
    const none = checkSandboxTools('linux', { PATH: join(work, 'empty-path') });
    assert.equal(none.ok, false);
    assert.match(
      formatSandboxCheck(none),
      /^sandbox: missing bubblewrap, socat — fix: apt-get install bubblewrap socat/,
    );
    // scripts/setup.sh installs both where apt is there (as on CI).
    if (found.ok) assert.match(formatSandboxCheck(found), /^sandbox: ok \(bubblewrap .*, socat /);
    assert.equal(checkSandboxTools('darwin').ok, true);
  });
});
