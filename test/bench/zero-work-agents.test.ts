/**
 * The benchmark's zero-work agents (bench/agents): each, run as the `command` adapter runs it,
 * marks its own feature passing and no other, leaves the store alone for a testing agent, and
 * exits non-zero with a message when it cannot reach the database. The C one is built here as the
 * benchmark builds it; a machine without a compiler or OpenSSL's headers skips it (and says why).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zeroWorkAgent, type ZeroWorkAgent } from '../../bench/agents/build.ts';
import { getFeature } from '../../src/db/features.ts';
import { importFeatures } from '../../src/db/import.ts';
import { upsertProject } from '../../src/db/projects.ts';
import { withTestDb } from '../support/db.ts';

const buildDir = mkdtempSync(join(tmpdir(), 'ac-zero-work-'));
let cAgent: ZeroWorkAgent | Error;
try {
  cAgent = zeroWorkAgent('c', buildDir);
} catch (err) {
  cAgent = err as Error;
}
const agents: [string, ZeroWorkAgent | Error][] = [
  ['node', zeroWorkAgent('node', buildDir)],
  ['c', cAgent],
];

describe('zero-work agents', () => {
  const t = withTestDb();
  after(() => rmSync(buildDir, { recursive: true, force: true }));

  for (const [name, agent] of agents) {
    const skip = agent instanceof Error ? agent.message : false;
    const run = (env: Record<string, string>) => {
      if (agent instanceof Error) throw agent;
      const [command, ...args] = agent.argv;
      return spawnSync(command!, args, { env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8' });
    };

    test(`${name}: a coding agent marks its own feature passing, and only it`, { skip }, async () => {
      const projectId = `zero-work-${name}`;
      await upsertProject(t.db, { id: projectId, dir: buildDir });
      await importFeatures(t.db, projectId, [
        { id: 1, name: 'one' },
        { id: 2, name: "two'; DROP TABLE features; --" },
      ]);
      const done = run({
        AUTOCODER_AGENT_KIND: 'coding',
        AUTOCODER_PROJECT_ID: projectId,
        AUTOCODER_FEATURE_ID: '2',
        DATABASE_URL: t.url,
      });
      assert.equal(done.status, 0, done.stderr);
      assert.equal((await getFeature(t.db, projectId, 2))?.passes, true);
      assert.equal((await getFeature(t.db, projectId, 1))?.passes, false);
    });

    test(
      `${name}: a batch agent marks every feature of AUTOCODER_FEATURE_IDS passing, and only them`,
      { skip },
      async () => {
        const projectId = `zero-work-${name}-batch`;
        await upsertProject(t.db, { id: projectId, dir: buildDir });
        await importFeatures(
          t.db,
          projectId,
          [1, 2, 3, 4].map((id) => ({ id, name: `feature ${id}` })),
        );
        const done = run({
          AUTOCODER_AGENT_KIND: 'coding',
          AUTOCODER_PROJECT_ID: projectId,
          AUTOCODER_FEATURE_ID: '2',
          AUTOCODER_FEATURE_IDS: '2,4,3',
          DATABASE_URL: t.url,
        });
        assert.equal(done.status, 0, done.stderr);
        const passes = await Promise.all(
          [1, 2, 3, 4].map(async (id) => (await getFeature(t.db, projectId, id))?.passes),
        );
        assert.deepEqual(passes, [false, true, true, true]);
      },
    );

    test(`${name}: a testing agent changes nothing`, { skip }, async () => {
      const projectId = `zero-work-${name}-testing`;
      await upsertProject(t.db, { id: projectId, dir: buildDir });
      await importFeatures(t.db, projectId, [{ id: 1, name: 'one' }]);
      const done = run({
        AUTOCODER_AGENT_KIND: 'testing',
        AUTOCODER_PROJECT_ID: projectId,
        AUTOCODER_FEATURE_ID: '1',
        DATABASE_URL: t.url,
      });
      assert.equal(done.status, 0, done.stderr);
      assert.equal((await getFeature(t.db, projectId, 1))?.passes, false);
    });

    test(`${name}: a wrong password is a non-zero exit with the server's message`, { skip }, () => {
      const url = new URL(t.url);
      assert.ok(url.password, 'the test database has a password (SCRAM is exercised)');
      url.password = 'not-the-password';
      const done = run({
        AUTOCODER_AGENT_KIND: 'coding',
        AUTOCODER_PROJECT_ID: 'p',
        AUTOCODER_FEATURE_ID: '1',
        DATABASE_URL: url.toString(),
      });
      assert.notEqual(done.status, 0);
      assert.match(done.stderr, /zero-work agent: .*password authentication failed/);
    });

    test(`${name}: an unreachable database is a non-zero exit with a message`, { skip }, () => {
      const url = new URL(t.url);
      url.port = '1';
      const done = run({
        AUTOCODER_AGENT_KIND: 'coding',
        AUTOCODER_PROJECT_ID: 'p',
        AUTOCODER_FEATURE_ID: '1',
        DATABASE_URL: url.toString(),
      });
      assert.notEqual(done.status, 0);
      assert.match(done.stderr, /zero-work agent/);
    });
  }
});
