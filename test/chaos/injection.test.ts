/**
 * Scenario 7: injection. Feature names, descriptions, steps and categories, and the project path,
 * carry shell metacharacters aimed at a sentinel in a temp dir, SQL quotes, ANSI escape sequences
 * and 1 MB strings; a project runs them to the end through the real CLI (import, run, list,
 * status). Nothing is executed (no marker file appears, the sentinel survives), terminal output
 * shows escapes instead of raw control characters, and the database holds every byte.
 * NUL: Postgres text cannot hold it, so a feature file with "\u0000" is rejected with exit 2
 * naming the field (docs/reliability.md).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { featureRows, withTemporal } from '../support/temporal.ts';
import { chaosSuite, cliEnv, dumpRows, hasStackTrace, report, runCli } from './support.ts';

const MB = 1024 * 1024;
/** Raw terminal control characters (what escapeForTerminal must have replaced). */
const RAW_CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e]/;

const suite = chaosSuite();

describe('scenario 7: injection', suite, () => {
  const t = withTemporal({ name: 'chaos-injection', startWorker: false });

  test('nothing executed, terminal output escaped, nothing truncated', { timeout: suite.timeout }, async () => {
    const home = mkdtempSync(join(tmpdir(), 'ac-chaos-inj-'));
    const sandbox = join(home, 'sandbox');
    mkdirSync(sandbox);
    const sentinel = join(sandbox, 'sentinel');
    writeFileSync(sentinel, 'still here');
    const payloads = [
      `$(touch ${sandbox}/pwned-dollar)`,
      `\`touch ${sandbox}/pwned-backtick\``,
      `; rm -rf ${sentinel} ; echo `,
      `&& touch ${sandbox}/pwned-and || touch ${sandbox}/pwned-or | tee ${sandbox}/pwned-pipe > ${sandbox}/pwned-redirect`,
      `"; touch ${sandbox}/pwned-quote; echo "`,
      `'; DROP TABLE features; --`,
      `Robert'); DELETE FROM agent_runs WHERE ('1'='1`,
      '\u001b[31mRED\u001b[0m \u001b]0;pwned-title\u0007 \u001b[2J\u001b[H cleared',
      'line1\nline2\r\u202eevil \u009b31m',
      '%s %n {featureId} {projectDir} ${HOME} \\ \\\\',
    ];
    const big = `${'é'.repeat(MB / 4)}${'x'.repeat(MB / 2)}$(touch ${sandbox}/pwned-big)`;
    const features = [
      ...payloads.map((p, i) => ({
        id: i + 1,
        name: `n${i + 1} ${p}`,
        description: p,
        steps: [p, `${p} again`],
        category: p,
      })),
      { id: payloads.length + 1, name: `big ${big}`, description: big, steps: [big], category: 'big' },
    ];
    const projectDir = join(sandbox, `dir $(touch ${sandbox}/pwned-dir); rm -rf ${sentinel} 'q" \`id\``);
    mkdirSync(projectDir, { recursive: true }); // the payload's slashes make nested directories
    const file = join(home, 'features.json');
    writeFileSync(file, JSON.stringify({ features }));
    const project = 'inject-' + Math.random().toString(36).slice(2, 8);
    const env = cliEnv(t, home);

    const noRawControl = (what: string, text: string) => {
      const match = RAW_CONTROL.exec(text);
      assert.equal(
        match,
        null,
        `${what} printed a raw control character ${JSON.stringify(match?.[0])} at ${match?.index}`,
      );
    };

    const imported = await runCli(['features', 'import', file, '--project', project, '--dir', projectDir], env);
    assert.equal(imported.code, 0, imported.stderr);
    noRawControl('features import', imported.stdout + imported.stderr);

    const ran = await runCli(
      [
        'run',
        projectDir,
        '--project',
        project,
        '--agent',
        'simulate',
        '--testing-ratio',
        '0',
        '--concurrency',
        '5',
        '--poll-interval',
        '500',
      ],
      env,
      180_000,
    );
    assert.equal(ran.code, 0, ran.stdout + ran.stderr);
    assert.match(ran.stdout, /outcome: complete/);
    noRawControl('run (summary)', ran.stdout + ran.stderr);
    assert.match(ran.stdout, /\\x1b\[31mRED/, 'the summary shows the escape as text');

    const listed = await runCli(['features', 'list', '--project', project], env);
    assert.equal(listed.code, 0, listed.stderr);
    noRawControl('features list', listed.stdout + listed.stderr);
    assert.match(listed.stdout, /\\x1b\[31mRED/);
    const shown = await runCli(['features', 'show', '8', '--project', project], env);
    assert.equal(shown.code, 0, shown.stderr);
    noRawControl('features show', shown.stdout + shown.stderr);
    const status = await runCli(['status', project], env);
    assert.equal(status.code, 0, status.stderr);
    noRawControl('status', status.stdout + status.stderr);

    // Nothing executed.
    assert.ok(existsSync(sentinel), 'the sentinel survived');
    assert.deepEqual(
      readdirSync(sandbox).filter((f) => f.startsWith('pwned')),
      [],
      'no marker file appeared',
    );

    // Nothing truncated or altered: every string round-trips through file, CLI, Postgres and the run.
    const rows = await featureRows(t.db, project);
    assert.equal(rows.length, features.length);
    for (const f of features) {
      const row = rows.find((r) => r.id === f.id);
      assert.ok(row, `#${f.id} stored`);
      assert.equal(row.name, f.name, `#${f.id} name`);
      assert.equal(row.description, f.description, `#${f.id} description`);
      assert.deepEqual(row.steps, f.steps, `#${f.id} steps`);
      assert.equal(row.category, f.category, `#${f.id} category`);
      assert.equal(row.passes, true, `#${f.id} passed`);
    }
    assert.equal(rows.find((r) => r.id === features.length)!.description.length, big.length);
    const { rows: tables } = await import('kysely').then(({ sql }) =>
      sql<{ n: number }>`SELECT count(*)::int AS n FROM agent_runs WHERE project_id = ${project}`.execute(t.db),
    );
    assert.equal(tables[0]!.n, features.length, 'agent_runs intact, one run per feature');
    const listJson = await runCli(['features', 'list', '--project', project, '--json'], env);
    const fromJson = JSON.parse(listJson.stdout) as Array<{ id: number; name: string }>;
    assert.deepEqual(
      fromJson.map((f) => f.name),
      features.map((f) => f.name),
      '--json gives the exact names',
    );

    // NUL: rejected before anything is written, naming the field.
    const before = await dumpRows(t.db);
    for (const [field, feature] of [
      ['name', { id: 1, name: 'a\u0000b' }],
      ['description', { id: 1, name: 'ok', description: 'x\u0000' }],
      ['steps', { id: 1, name: 'ok', steps: ['fine', '\u0000'] }],
      ['category', { id: 1, name: 'ok', category: '\u0000' }],
    ] as const) {
      const nulFile = join(home, `nul-${field}.json`);
      writeFileSync(nulFile, JSON.stringify({ features: [feature] }));
      const result = await runCli(['features', 'import', nulFile, '--project', project], env);
      assert.equal(result.code, 2, `NUL in ${field}: ${result.stdout}${result.stderr}`);
      assert.match(result.stderr, new RegExp(`${field}.*NUL|NUL.*${field}`, 'i'));
      assert.equal(hasStackTrace(result.stderr), false, result.stderr);
      noRawControl('NUL rejection', result.stderr);
    }
    assert.equal(await dumpRows(t.db), before, 'NUL files changed nothing');

    report('injection', {
      payloads: payloads.length,
      bigStringBytes: Buffer.byteLength(big),
      features: features.length,
      markers: 0,
      nulCases: 4,
    });
    rmSync(home, { recursive: true, force: true });
  });
});
