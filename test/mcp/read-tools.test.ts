/**
 * The MCP feature server over stdio (bin/autocoder mcp + the SDK client) against real Postgres:
 * tools/list, the start-up round trip, the read-only tools with good and bad input, and the
 * server staying up through errors (bad project, unreachable database, unknown tool).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { sql } from 'kysely';
import { withTestDb } from '../support/db.ts';
import { seedProject } from '../db/seed.ts';
import { agentEnv, autocoderBin, cpuSecondsOf, openMcp, type McpSession } from './support.ts';

describe('MCP feature server: read tools over stdio', () => {
  const t = withTestDb();
  let projectId = '';
  let mcp: McpSession;

  // 1 passes; 2 is ready; 3 waits on 2; 4 waits on a missing id; 5 ⇄ 6 form a cycle; 7 was given
  // up (3 failures); 8 waits on 7; 9 is held by an agent run; 10 is ready with a better priority.
  const entries = [
    { id: 1, name: 'Setup', passes: true, priority: 1, category: 'infra', description: 'Scaffold', steps: ['init'] },
    { id: 2, name: 'Login', dependencies: [1], priority: 5 },
    { id: 3, name: 'Profile', dependencies: [2] },
    { id: 4, name: 'Orphan', dependencies: [99] },
    { id: 5, name: 'Chicken', dependencies: [6] },
    { id: 6, name: 'Egg', dependencies: [5] },
    { id: 7, name: 'Given up' },
    { id: 8, name: 'After given up', dependencies: [7] },
    { id: 9, name: 'Held' },
    { id: 10, name: 'Settings', priority: 2 },
  ];

  before(async () => {
    projectId = await seedProject(t.db, entries, 'mcp-read');
    await t.db
      .updateTable('features')
      .set({ failure_count: 3 })
      .where('project_id', '=', projectId)
      .where('id', '=', 7)
      .execute();
    await t.db
      .updateTable('features')
      .set({ in_progress: true, claimed_by: `autocoder/${projectId}/coding/9/1`, claimed_at: sql`now()` })
      .where('project_id', '=', projectId)
      .where('id', '=', 9)
      .execute();
    mcp = await openMcp(agentEnv(t.url, projectId));
  });
  after(async () => mcp?.close());

  const EXPECTED_TOOLS = [
    'feature_get_stats',
    'feature_get_by_id',
    'feature_get_summary',
    'feature_get_ready',
    'feature_get_blocked',
    'feature_get_graph',
    'feature_mark_passing',
    'feature_mark_failing',
    'feature_skip',
    'feature_mark_in_progress',
    'feature_claim_and_get',
    'feature_clear_in_progress',
    'feature_create_bulk',
    'feature_create',
    'feature_add_dependency',
    'feature_remove_dependency',
    'feature_set_dependencies',
    'feature_request_human_input',
    'ask_user',
  ];

  type JsonSchema = {
    type?: string;
    properties?: Record<string, JsonSchema & { minimum?: number; maximum?: number; default?: unknown }>;
    required?: string[];
    description?: string;
  };

  describe('tools/list', () => {
    test("lists AutoCoder's tools, each with a description and a JSON schema of its input", async () => {
      const { tools } = await mcp.client.listTools();
      assert.deepEqual(tools.map((x) => x.name).sort(), [...EXPECTED_TOOLS].sort());
      for (const tool of tools) {
        assert.ok((tool.description ?? '').length > 40, `${tool.name} has a description`);
        const schema = tool.inputSchema as JsonSchema;
        assert.equal(schema.type, 'object', `${tool.name} takes an object`);
        for (const [name, property] of Object.entries(schema.properties ?? {})) {
          assert.ok(property.description, `${tool.name}.${name} is described`);
        }
      }
      const byName = new Map(tools.map((x) => [x.name, x.inputSchema as JsonSchema]));
      const featureId = byName.get('feature_mark_passing')?.properties?.feature_id;
      assert.equal(featureId?.type, 'integer');
      assert.equal(featureId?.minimum, 1);
      assert.deepEqual(byName.get('feature_mark_passing')?.required, ['feature_id']);
      const readyLimit = byName.get('feature_get_ready')?.properties?.limit;
      assert.deepEqual([readyLimit?.minimum, readyLimit?.maximum, readyLimit?.default], [1, 50, 10]);
      const blockedLimit = byName.get('feature_get_blocked')?.properties?.limit;
      assert.deepEqual([blockedLimit?.minimum, blockedLimit?.maximum, blockedLimit?.default], [1, 100, 20]);
      assert.deepEqual(byName.get('feature_create')?.required?.sort(), ['category', 'description', 'name', 'steps']);
      assert.equal(tools.find((x) => x.name === 'feature_get_stats')?.annotations?.readOnlyHint, true);
    });
  });

  describe('start-up', () => {
    test('a round trip (spawn, initialize, feature_get_stats) takes under 1 s', async () => {
      const walls: number[] = [];
      const cpus: number[] = [];
      for (let i = 0; i < 3; i++) {
        const started = performance.now();
        const session = await openMcp(agentEnv(t.url, projectId));
        const stats = await session.ok('feature_get_stats');
        walls.push(performance.now() - started);
        if (session.pid !== null) cpus.push(cpuSecondsOf(session.pid) * 1000);
        assert.equal(stats.total, entries.length);
        await session.close();
      }
      const best = Math.min(...walls);
      const show = (ms: number[]) => ms.map((x) => x.toFixed(0)).join(', ');
      const busy = loadavg()[0]! / availableParallelism();
      process.stdout.write(
        `# MCP round trip (spawn bin/autocoder mcp, initialize, feature_get_stats): wall ${show(walls)} ms (best ${best.toFixed(0)}), server CPU ${show(cpus)} ms, load ${busy.toFixed(1)} per core\n`,
      );
      // CPU time does not depend on what else the machine runs; wall time does, so it is held to
      // the 1 s only when the machine is not overloaded (the note above says which it was).
      assert.ok(Math.min(...cpus) < 1000, `server CPU to first answer: ${show(cpus)} ms`);
      if (busy < 1) assert.ok(best < 1000, `best round trip ${best.toFixed(0)} ms`);
    });
  });

  describe('read tools', () => {
    test('feature_get_stats counts the project by state', async () => {
      assert.deepEqual(await mcp.ok('feature_get_stats'), {
        passing: 1,
        in_progress: 1,
        needs_human_input: 0,
        total: 10,
        percentage: 10,
        pending: 2,
        blocked: 5,
        failed: 1,
      });
    });

    test('feature_get_by_id returns AutoCoder’s fields and ours', async () => {
      const f = await mcp.ok('feature_get_by_id', { feature_id: 1 });
      assert.deepEqual(
        {
          id: f.id,
          name: f.name,
          category: f.category,
          description: f.description,
          steps: f.steps,
          passes: f.passes,
          in_progress: f.in_progress,
          dependencies: f.dependencies,
          priority: f.priority,
        },
        {
          id: 1,
          name: 'Setup',
          category: 'infra',
          description: 'Scaffold',
          steps: ['init'],
          passes: true,
          in_progress: false,
          dependencies: [],
          priority: 1,
        },
      );
      assert.equal(f.needs_human_input, false);
      assert.equal(f.state, 'passing');
      const held = await mcp.ok('feature_get_by_id', { feature_id: 9 });
      assert.equal(held.in_progress, true);
      assert.equal(held.claimed_by, `autocoder/${projectId}/coding/9/1`);
      const orphan = await mcp.ok('feature_get_by_id', { feature_id: 4 });
      assert.deepEqual(orphan.missing_dependencies, [99]);
    });

    test('feature_get_summary returns id, name, status and dependencies', async () => {
      assert.deepEqual(await mcp.ok('feature_get_summary', { feature_id: 3 }), {
        id: 3,
        name: 'Profile',
        passes: false,
        in_progress: false,
        needs_human_input: false,
        dependencies: [2],
        state: 'blocked',
      });
    });

    test('feature_get_ready lists ready features in scheduling order, limited', async () => {
      const ready = await mcp.ok<{ features: Array<{ id: number }>; count: number; total_ready: number }>(
        'feature_get_ready',
      );
      // #2 unblocks #3, so it outranks #10 despite #10's better priority; #7 is given up.
      assert.deepEqual(
        ready.features.map((f) => f.id),
        [2, 10],
      );
      assert.deepEqual([ready.count, ready.total_ready], [2, 2]);
      const one = await mcp.ok<{ features: Array<{ id: number }>; count: number; total_ready: number }>(
        'feature_get_ready',
        { limit: 1 },
      );
      assert.deepEqual([one.features.map((f) => f.id), one.count, one.total_ready], [[2], 1, 2]);
    });

    test('feature_get_blocked lists what waits, on what, and what can never start', async () => {
      type Blocked = { id: number; blocked_by: number[]; never_ready: string | null };
      const blocked = await mcp.ok<{ features: Blocked[]; count: number; total_blocked: number }>(
        'feature_get_blocked',
      );
      const byId = new Map(blocked.features.map((f) => [f.id, f]));
      assert.deepEqual([...byId.keys()], [3, 4, 5, 6, 8]);
      assert.deepEqual(byId.get(3)?.blocked_by, [2]);
      assert.equal(byId.get(3)?.never_ready, null);
      assert.deepEqual(byId.get(4)?.blocked_by, [99]);
      assert.match(byId.get(4)?.never_ready ?? '', /#99, which does not exist/);
      assert.match(byId.get(5)?.never_ready ?? '', /cycle: 5 → 6 → 5/);
      assert.match(byId.get(8)?.never_ready ?? '', /given up/);
      const two = await mcp.ok<{ features: Blocked[]; count: number; total_blocked: number }>('feature_get_blocked', {
        limit: 2,
      });
      assert.deepEqual([two.features.length, two.count, two.total_blocked], [2, 2, 5]);
    });

    test('feature_get_graph returns nodes with statuses, edges and cycles', async () => {
      type Graph = {
        nodes: Array<{ id: number; status: string; dependencies: number[] }>;
        edges: Array<{ source: number; target: number }>;
        cycles: number[][];
      };
      const graph = await mcp.ok<Graph>('feature_get_graph');
      const status = Object.fromEntries(graph.nodes.map((n) => [n.id, n.status]));
      assert.deepEqual(status, {
        1: 'done',
        2: 'pending',
        3: 'blocked',
        4: 'blocked',
        5: 'blocked',
        6: 'blocked',
        7: 'pending',
        8: 'blocked',
        9: 'in_progress',
        10: 'pending',
      });
      assert.deepEqual(
        graph.edges.filter((e) => e.target === 3),
        [{ source: 2, target: 3 }],
      );
      assert.equal(graph.edges.length, 6);
      assert.deepEqual(graph.cycles, [[5, 6]]);
    });

    test('bad inputs are tool errors that name the parameter', async () => {
      const cases: Array<[string, Record<string, unknown>, RegExp]> = [
        ['feature_get_by_id', { feature_id: 0 }, /feature_id must be ≥ 1/],
        ['feature_get_by_id', { feature_id: -3 }, /feature_id must be ≥ 1/],
        ['feature_get_by_id', { feature_id: 1.5 }, /feature_id must be an integer/],
        ['feature_get_by_id', { feature_id: '3' }, /feature_id must be a number/],
        ['feature_get_by_id', {}, /feature_id/],
        ['feature_get_by_id', { feature_id: 2 ** 31 }, /feature_id must be at most 2147483647/],
        ['feature_get_by_id', { feature_id: 999 }, /has no feature #999/],
        ['feature_get_summary', { feature_id: 0 }, /feature_id must be ≥ 1/],
        ['feature_get_summary', { feature_id: 999 }, /has no feature #999/],
        ['feature_get_ready', { limit: 0 }, /limit must be 1\.\.50/],
        ['feature_get_ready', { limit: 51 }, /limit must be 1\.\.50/],
        ['feature_get_ready', { limit: 'ten' }, /limit must be a number 1\.\.50/],
        ['feature_get_blocked', { limit: 101 }, /limit must be 1\.\.100/],
        ['feature_get_blocked', { limit: 0 }, /limit must be 1\.\.100/],
        ['feature_no_such_tool', {}, /not found/],
      ];
      for (const [tool, args, expected] of cases)
        assert.match(await mcp.fails(tool, args), expected, `${tool}(${JSON.stringify(args)})`);
      // …and the server is still there.
      assert.equal((await mcp.ok('feature_get_stats')).total, 10);
    });
  });

  describe('a server that cannot do its job still answers', () => {
    test('an unknown project is a tool error naming it', async () => {
      const session = await openMcp(agentEnv(t.url, 'no-such-project'));
      try {
        assert.match(await session.fails('feature_get_stats'), /unknown project "no-such-project"/);
      } finally {
        await session.close();
      }
    });

    test('an unreachable database is a tool error, and the server keeps serving', async () => {
      const session = await openMcp(agentEnv('postgres://nobody:x@127.0.0.1:1/nothing', 'todo-app'));
      try {
        assert.match(
          await session.fails('feature_get_by_id', { feature_id: 1 }),
          /feature database is unreachable \(127\.0\.0\.1:1\)/,
        );
        assert.match(await session.fails('feature_mark_passing', { feature_id: 1 }), /unreachable/);
        assert.equal((await session.client.listTools()).tools.length, EXPECTED_TOOLS.length);
      } finally {
        await session.close();
      }
    });

    test('it ends by itself when its client goes away (stdin closes) or on SIGTERM', async () => {
      for (const how of ['stdin', 'SIGTERM'] as const) {
        const child = spawn(autocoderBin, ['mcp'], {
          env: { ...process.env, ...agentEnv(t.url, projectId) },
          stdio: ['pipe', 'pipe', 'inherit'],
        });
        const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
          child.once('exit', (code, signal) => resolve({ code, signal })),
        );
        // Up and serving once it answers an initialize request.
        const answered = new Promise((resolve) => child.stdout.once('data', resolve));
        child.stdin.write(
          `${JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } })}\n`,
        );
        await answered;
        const started = performance.now();
        if (how === 'stdin') child.stdin.end();
        else child.kill('SIGTERM');
        const result = await exited;
        assert.deepEqual(result, { code: 0, signal: null }, how);
        assert.ok(
          performance.now() - started < 3000,
          `${how}: ended in ${(performance.now() - started).toFixed(0)} ms`,
        );
      }
    });

    test('without the agent environment it exits 2 and names what is missing', async () => {
      const result = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = execFile(
          autocoderBin,
          ['mcp'],
          { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' } },
          (error, _stdout, stderr) => {
            resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stderr });
          },
        );
        child.stdin?.end();
      });
      assert.equal(result.code, 2);
      assert.match(result.stderr, /AUTOCODER_PROJECT_ID is not set/);
      assert.match(result.stderr, /DATABASE_URL is not set/);
    });
  });
});
