/**
 * Feature-list tools over stdio against real Postgres: create one or many features, and edit
 * dependencies with src/graph's validation (a cycle is refused with its path) and scores kept current.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { getFeature, listFeatures } from '../../src/db/features.ts';
import { schedulingScores } from '../../src/graph/index.ts';
import { withTestDb } from '../support/db.ts';
import { seedProject } from '../db/seed.ts';
import { agentEnv, openMcp, type McpSession } from './support.ts';

describe('MCP feature server: feature list tools over stdio', () => {
  const t = withTestDb();
  let projectId = '';
  let mcp: McpSession;
  const RUN = 'autocoder/some-project/initializer/init/1';

  before(async () => {
    projectId = await seedProject(
      t.db,
      [
        { id: 1, name: 'Base', priority: 3 },
        { id: 2, name: 'Middle', dependencies: [1] },
        { id: 3, name: 'Top', dependencies: [2] },
        { id: 4, name: 'Loose' },
        { id: 5, name: 'Old missing dependency', dependencies: [77] },
      ],
      'mcp-edit',
    );
    mcp = await openMcp(agentEnv(t.url, projectId, { AUTOCODER_RUN_ID: RUN, AUTOCODER_AGENT_KIND: 'initializer' }));
  });
  after(async () => mcp?.close());

  /** Stored scores equal src/graph's over the stored list: edits kept them current. */
  async function assertScoresCurrent(): Promise<void> {
    const features = await listFeatures(t.db, projectId);
    const rows = await t.db
      .selectFrom('features')
      .select(['id', 'position'])
      .where('project_id', '=', projectId)
      .orderBy('position')
      .execute();
    const byId = new Map(features.map((f) => [f.id, f]));
    const ordered = rows.map((r) => byId.get(r.id)!);
    const expected = schedulingScores(
      ordered.map((f) => ({
        id: f.id,
        priority: f.priority,
        dependencies: f.dependencies,
        passes: false,
        inProgress: false,
      })),
    );
    for (const f of ordered) assert.equal(f.score, expected.get(f.id), `score of #${f.id}`);
  }

  test('feature_create appends one feature with the next id, last priority and list position', async () => {
    const result = await mcp.ok<{ success: boolean; message: string; feature: Record<string, unknown> }>(
      'feature_create',
      {
        category: 'UI',
        name: 'Dark mode',
        description: 'Toggle a dark theme',
        steps: ['open settings', 'toggle', 'see dark'],
      },
    );
    assert.equal(result.success, true);
    assert.equal(result.message, 'Created feature: Dark mode');
    assert.deepEqual(
      [
        result.feature.id,
        result.feature.priority,
        result.feature.category,
        result.feature.steps,
        result.feature.passes,
        result.feature.dependencies,
      ],
      [6, 1000, 'UI', ['open settings', 'toggle', 'see dark'], false, []],
    );
    const events = await t.db
      .selectFrom('feature_events')
      .select(['run_id', 'action'])
      .where('project_id', '=', projectId)
      .where('feature_id', '=', 6)
      .execute();
    assert.deepEqual(events, [{ run_id: RUN, action: 'create' }]);
    await assertScoresCurrent();
  });

  test('feature_create rejects what AutoCoder rejects', async () => {
    const good = { category: 'UI', name: 'x', description: 'y', steps: ['z'] };
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ ...good, category: '' }, /category must not be empty/],
      [{ ...good, category: 'c'.repeat(101) }, /category must be at most 100 characters/],
      [{ ...good, name: 'n'.repeat(256) }, /name must be at most 255 characters/],
      [{ ...good, description: '' }, /description must not be empty/],
      [{ ...good, steps: [] }, /steps must list at least one step/],
      [{ ...good, steps: 'do it' }, /steps must be a list of strings/],
      [{ ...good, steps: [1] }, /each step must be a string/],
      [{ category: 'UI', name: 'x', steps: ['z'] }, /description/],
      [{ ...good, name: 'bad\u0000name' }, /must not contain NUL characters/],
    ];
    for (const [args, expected] of cases)
      assert.match(await mcp.fails('feature_create', args), expected, JSON.stringify(args));
    assert.equal((await listFeatures(t.db, projectId)).length, 6, 'nothing was created');
  });

  test('feature_create_bulk creates a batch with index-based dependencies in one go', async () => {
    const result = await mcp.ok<{ created: number; with_dependencies: number; feature_ids: number[] }>(
      'feature_create_bulk',
      {
        features: [
          { category: 'API', name: 'Schema', description: 'd', steps: ['s'] },
          { category: 'API', name: 'Endpoints', description: 'd', steps: ['s'], depends_on_indices: [0] },
          { category: 'UI', name: 'Screens', description: 'd', steps: ['s'], depends_on_indices: [1, 0] },
        ],
      },
    );
    assert.deepEqual(result, { created: 3, with_dependencies: 2, feature_ids: [7, 8, 9] });
    const f9 = await getFeature(t.db, projectId, 9);
    assert.deepEqual([f9?.dependencies, f9?.priority, f9?.name], [[7, 8], 1003, 'Screens']);
    await assertScoresCurrent();
  });

  test('feature_create_bulk refuses a bad batch whole, naming every problem', async () => {
    const item = { category: 'c', name: 'n', description: 'd', steps: ['s'] };
    const text = await mcp.fails('feature_create_bulk', {
      features: [
        { ...item, depends_on_indices: [0] },
        { ...item, depends_on_indices: [2] },
        { ...item, depends_on_indices: [0, 0] },
      ],
    });
    assert.match(text, /no features created \(3 problems\)/);
    assert.match(text, /features\[0\]\.depends_on_indices: 0 is not an earlier feature/);
    assert.match(text, /features\[1\]\.depends_on_indices: 2 is not an earlier feature/);
    assert.match(text, /features\[2\]\.depends_on_indices: lists an index more than once/);
    assert.match(await mcp.fails('feature_create_bulk', { features: [] }), /features must list at least one feature/);
    assert.match(
      await mcp.fails('feature_create_bulk', { features: [{ ...item, depends_on_indices: [-1] }] }),
      /indices ≥ 0/,
    );
    assert.match(
      await mcp.fails('feature_create_bulk', {
        features: [{ ...item, depends_on_indices: Array.from({ length: 21 }, (_, i) => i) }],
      }),
      /at most 20/,
    );
    assert.match(await mcp.fails('feature_create_bulk', { features: [{ name: 'only a name' }] }), /category/);
    assert.equal((await listFeatures(t.db, projectId)).length, 9, 'nothing was created');
  });

  test('feature_add_dependency adds an edge, and refuses a cycle with its path', async () => {
    assert.deepEqual(await mcp.ok('feature_add_dependency', { feature_id: 4, dependency_id: 3 }), {
      success: true,
      feature_id: 4,
      dependencies: [3],
    });
    await assertScoresCurrent();
    // 1 ← 2 ← 3 ← 4: making 1 depend on 4 closes the loop.
    const text = await mcp.fails('feature_add_dependency', { feature_id: 1, dependency_id: 4 });
    assert.match(text, /dependencies of feature #1 not changed: dependency #4 would create a cycle: 1 → 4 → 3 → 2 → 1/);
    assert.deepEqual((await getFeature(t.db, projectId, 1))?.dependencies, []);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ feature_id: 4, dependency_id: 4 }, /feature #4 cannot depend on itself/],
      [{ feature_id: 4, dependency_id: 3 }, /feature #4 already depends on #3/],
      [{ feature_id: 4, dependency_id: 404 }, /dependency #404 names no feature/],
      [{ feature_id: 404, dependency_id: 1 }, /has no feature #404/],
      [{ feature_id: 4, dependency_id: 0 }, /dependency_id must be ≥ 1/],
      [{ feature_id: 4 }, /dependency_id/],
    ];
    for (const [args, expected] of cases)
      assert.match(await mcp.fails('feature_add_dependency', args), expected, JSON.stringify(args));
    // An old dependency on a missing id is not the new edge's problem.
    assert.deepEqual(await mcp.ok('feature_add_dependency', { feature_id: 5, dependency_id: 1 }), {
      success: true,
      feature_id: 5,
      dependencies: [1, 77],
    });
  });

  test('feature_set_dependencies replaces the list, reporting every problem at once', async () => {
    assert.deepEqual(await mcp.ok('feature_set_dependencies', { feature_id: 6, dependency_ids: [4, 1] }), {
      success: true,
      feature_id: 6,
      dependencies: [1, 4],
    });
    await assertScoresCurrent();
    const text = await mcp.fails('feature_set_dependencies', { feature_id: 2, dependency_ids: [2, 404, 6] });
    assert.match(text, /feature #2 cannot depend on itself/);
    assert.match(text, /dependency #404 names no feature/);
    assert.match(text, /dependency #6 would create a cycle: 2 → 6 → 4 → 3 → 2/);
    assert.deepEqual((await getFeature(t.db, projectId, 2))?.dependencies, [1]);
    assert.match(
      await mcp.fails('feature_set_dependencies', { feature_id: 6, dependency_ids: [1, 1] }),
      /dependency #1 is listed more than once/,
    );
    assert.match(
      await mcp.fails('feature_set_dependencies', {
        feature_id: 6,
        dependency_ids: Array.from({ length: 21 }, (_, i) => i + 1),
      }),
      /at most 20 dependencies/,
    );
    assert.match(await mcp.fails('feature_set_dependencies', { feature_id: 6, dependency_ids: [0] }), /must be ≥ 1/);
    assert.match(
      await mcp.fails('feature_set_dependencies', { feature_id: 6, dependency_ids: 4 }),
      /dependency_ids must be a list/,
    );
    assert.match(
      await mcp.fails('feature_set_dependencies', { feature_id: 404, dependency_ids: [] }),
      /has no feature #404/,
    );
    assert.deepEqual(await mcp.ok('feature_set_dependencies', { feature_id: 6, dependency_ids: [] }), {
      success: true,
      feature_id: 6,
      dependencies: [],
    });
  });

  test('feature_remove_dependency removes an edge it has, and says so when it has not', async () => {
    assert.deepEqual(await mcp.ok('feature_remove_dependency', { feature_id: 4, dependency_id: 3 }), {
      success: true,
      feature_id: 4,
      dependencies: [],
    });
    await assertScoresCurrent();
    assert.match(
      await mcp.fails('feature_remove_dependency', { feature_id: 4, dependency_id: 3 }),
      /feature #4 does not depend on #3 \(its dependencies: none\)/,
    );
    assert.match(
      await mcp.fails('feature_remove_dependency', { feature_id: 404, dependency_id: 3 }),
      /has no feature #404/,
    );
    assert.match(
      await mcp.fails('feature_remove_dependency', { feature_id: 4, dependency_id: 'x' }),
      /dependency_id must be a number/,
    );
    const actions = await t.db
      .selectFrom('feature_events')
      .select(['action', 'detail'])
      .where('project_id', '=', projectId)
      .where('feature_id', '=', 4)
      .orderBy('id')
      .execute();
    assert.deepEqual(actions, [
      { action: 'add dependency', detail: { from: [], to: [3] } },
      { action: 'remove dependency', detail: { from: [3], to: [] } },
    ]);
  });
});
