import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseFeatureText, toGraphFeatures } from '../../src/features/index.ts';
import { planFeatures } from '../../src/graph/index.ts';
import { cycleSets, loadGoldenCases, scoreMismatch } from '../graph/golden-cases.ts';
import { fixtures, mapLimited, runCli, type CliResult } from './run-cli.ts';

/** Each committed bad file, and what its error must say (the problem and where). */
const badFiles: Record<string, string[]> = {
  'trailing-comma.json': ['is not valid JSON: line 3, column', 'expected a property name'],
  'missing-comma.json': ['is not valid JSON: line 3, column 14', "expected ',' or '}'"],
  'comment.json': ['is not valid JSON: line 2, column 3', "found '/'"],
  'truncated.json': [
    'is not valid JSON: line 1, column 51',
    "expected ',' or '}' after a property value, found the end of the file",
  ],
  'empty.json': ['is empty'],
  'root-is-string.json': ['(file): must be an object with a "features" list, or a list of features, got "features"'],
  'features-not-a-list.json': ['features: must be a list of features, got an object'],
  'id-is-string.json': ['features[0].id: must be an integer, got "1"'],
  'dependency-not-integer.json': ['features[3].dependencies[1]: must be an integer, got "x"'],
  'duplicate-ids.json': ['features[2].id: duplicate id 1 (already used by features[0])'],
  'id-zero.json': ['features[0].id: must be at least 1, got 0'],
  'id-negative-bare-list.json': ['[0].id: must be at least 1, got -3'],
  'self-dependency.json': ['features[1].dependencies[1]: feature 2 cannot depend on itself'],
  'too-many-dependencies.json': ['features[22].dependencies: has 21 dependencies; at most 20 are allowed'],
  'empty-name.json': ['features[0].name: must not be empty'],
  'blank-name.json': ['features[0].name: must not be blank, got "   "'],
  'missing-name.json': ['features[0].name: is required'],
  'steps-not-a-list.json': ['features[0].steps: must be a list of strings, got "open the page and check"'],
  'steps-not-strings.json': ['features[0].steps[1]: must be a string (steps are a list of strings), got 2'],
  'passes-not-boolean.json': ['features[0].passes: must be true or false, got "yes"'],
  'unknown-field.json': ['features[0].dependancies: unknown field'],
  'dependencies-not-a-list.json': ['features[0].dependencies: must be a list of feature ids, or null, got "2"'],
  'id-not-integer.json': [
    'features[0].id: must be an integer, got 1.5',
    'features[0].priority: must be an integer, got "high"',
  ],
  'several-problems.json': [
    'has 6 problems',
    'features[0].name: must not be empty',
    'features[1].id: duplicate id 1 (already used by features[0])',
    'features[1].dependencies[0]: feature 1 cannot depend on itself',
    'features[1].dependencies[1]: must be an integer, got "x"',
    'features[1].steps[0]: must be a string (steps are a list of strings), got null',
    'features[2]: must be an object (one feature), got 7',
  ],
};

function assertBadInput(result: CliResult, expected: readonly string[], label: string): void {
  assert.equal(result.exitCode, 2, `${label}: exit code (stderr: ${result.stderr})`);
  assert.equal(result.stdout, '', `${label}: nothing on stdout`);
  for (const text of expected)
    assert.ok(result.stderr.includes(text), `${label}: stderr lacks ${JSON.stringify(text)}:\n${result.stderr}`);
  assert.match(result.stderr, /^ {2}fix: /m, `${label}: a hint`);
  assert.doesNotMatch(result.stderr, /^\s+at .+:\d+:\d+\)?$/m, `${label}: no stack trace`);
  assert.doesNotMatch(result.stderr, /internal error/, label);
}

describe('autocoder features plan: bad files exit 2 with every problem and its path', () => {
  let scratch = '';
  before(() => {
    scratch = mkdtempSync(join(tmpdir(), 'features-plan-'));
  });
  after(() => rmSync(scratch, { recursive: true, force: true }));

  test('every committed bad file has an expectation, and there are at least 15', () => {
    const committed = readdirSync(`${fixtures}bad`).sort();
    assert.deepEqual(committed, Object.keys(badFiles).sort());
    assert.ok(committed.length >= 15);
  });

  test('committed bad files', async () => {
    const names = Object.keys(badFiles);
    const results = await mapLimited(names, 2, (name) =>
      runCli(['features', 'plan', `${fixtures}bad/${name}`, '--json']),
    );
    names.forEach((name, k) =>
      assertBadInput(results[k] as CliResult, [...(badFiles[name] as string[]), `bad/${name}`], name),
    );
  });

  test('files that cannot be committed as fixtures: not UTF-8, over the size limit, missing, a directory', async () => {
    const latin1 = join(scratch, 'latin1.json');
    writeFileSync(
      latin1,
      Buffer.concat([Buffer.from('[\n  {"id": 1, "name": "Caf'), Buffer.from([0xe9]), Buffer.from('"}\n]\n')]),
    );
    const huge = join(scratch, 'huge.json');
    writeFileSync(huge, '');
    truncateSync(huge, 21 * 1024 * 1024); // sparse: refused by size before any byte is read
    const folder = join(scratch, 'folder.json');
    mkdirSync(folder);
    const missing = join(scratch, 'nope.json');
    const cases: [string, string[]][] = [
      [latin1, ['is not valid UTF-8', 'byte 0xe9 at byte offset 26 (line 2)']],
      [huge, ['is 21.0 MB, over the 20.0 MB limit (20971520 bytes)']],
      [folder, ['is a directory']],
      [missing, [`feature file not found: ${missing}`]],
    ];
    const results = await mapLimited(cases, 2, ([path]) => runCli(['features', 'plan', path]));
    cases.forEach(([path, expected], k) => assertBadInput(results[k] as CliResult, expected, path));
  });
});

describe('autocoder features plan: good files', () => {
  test('--json prints exactly planFeatures of the file, one line, exit 0 with cycles and missing dependencies', async () => {
    const file = `${fixtures}good/cycles-and-missing.json`;
    const result = await runCli(['features', 'plan', file, '--json']);
    assert.equal(result.exitCode, 0, result.stderr);
    assert.equal(result.stderr, '');
    const expected = planFeatures(toGraphFeatures(parseFeatureText(readFileSync(file, 'utf8'), file)));
    assert.equal(result.stdout, `${JSON.stringify(expected)}\n`);
    assert.deepEqual(Object.keys(JSON.parse(result.stdout) as object), ['ready', 'scores', 'cycles', 'missing']);
    assert.deepEqual(expected.missing, { 5: [99] });
    assert.ok(expected.cycles.length > 0);
  });

  test('the table shows order, score, state and blockers, then cycles, missing and blocked lines', async () => {
    const result = await runCli(['features', 'plan', `${fixtures}good/cycles-and-missing.json`]);
    assert.equal(result.exitCode, 0, result.stderr);
    const lines = result.stdout.split('\n');
    assert.match(lines[0] as string, /7 features, 1 passing, 1 in progress, 2 ready, 3 blocked$/);
    assert.match(result.stdout, /^order +id +score +priority +state +name +blocked by$/m);
    assert.match(result.stdout, /^ +1 +2 +674\.67 +2 +ready +Todo model$/m);
    assert.match(result.stdout, /^ +- +5 +6\.00 +4 +blocked +Todo page +#3, #99 \(missing\)$/m);
    assert.match(result.stdout, /^ {2}cycle: 3 → 4 → 3$/m);
    assert.match(result.stdout, /^ {2}#5 depends on #99, which names no feature$/m);
    assert.match(result.stdout, /^ {2}#4 is in a dependency cycle: 4 → 3 → 4$/m);
  });

  test('a bare list works, and names cannot smuggle terminal escapes', async () => {
    const [bare, evil] = await Promise.all([
      runCli(['features', 'plan', `${fixtures}good/bare-list.json`, '--json']),
      runCli(['features', 'plan', `${fixtures}good/control-characters.json`]),
    ]);
    assert.equal(bare.stdout, '{"ready":[1],"scores":{"1":1100,"2":0},"cycles":[],"missing":{}}\n');
    assert.equal(evil.exitCode, 0, evil.stderr);
    assert.doesNotMatch(evil.stdout, /[\u001b\u202e]/);
    assert.ok(evil.stdout.includes('Evil \\x1b[31mred\\x1b[0m\\nnext line \\u202eover'), evil.stdout);
  });

  test('the golden case files through the CLI give their expected plans', async () => {
    const cases = loadGoldenCases();
    const results = await mapLimited(cases, 2, (c) => runCli(['features', 'plan', c.file, '--json']));
    cases.forEach((c, k) => {
      const result = results[k] as CliResult;
      assert.equal(result.exitCode, 0, `${c.name}: ${result.stderr}`);
      const plan = JSON.parse(result.stdout) as ReturnType<typeof planFeatures>;
      assert.deepEqual(plan.ready, c.expected.ready, `${c.name} ready`);
      assert.equal(scoreMismatch(plan.scores, c.expected.scores), null, c.name);
      assert.deepEqual(cycleSets(plan.cycles), cycleSets(c.expected.cycles), `${c.name} cycles`);
      assert.deepEqual(plan.missing, c.expected.missing, `${c.name} missing`);
    });
  });

  test('--help shows examples', async () => {
    const result = await runCli(['features', 'plan', '--help']);
    assert.equal(result.exitCode, 0);
    assert.match(result.stdout, /Examples:\n {2}autocoder features plan /);
  });
});
