/**
 * feature_request_human_input and ask_user over stdio: recorded in human_requests with the run
 * that asked; an open request shows as needs_human_input and keeps the feature from being claimed.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { answerHumanRequest, listHumanRequests } from '../../src/db/human-requests.ts';
import { withTestDb } from '../support/db.ts';
import { seedProject } from '../db/seed.ts';
import { agentEnv, openMcp, type McpSession } from './support.ts';

describe('MCP feature server: human input tools over stdio', () => {
  const t = withTestDb();
  let projectId = '';
  let mcp: McpSession;
  const RUN = 'autocoder/x/coding/2/1';

  before(async () => {
    projectId = await seedProject(
      t.db,
      [
        { id: 1, name: 'Done', passes: true },
        { id: 2, name: 'Payments' },
        { id: 3, name: 'Emails' },
      ],
      'mcp-human',
    );
    mcp = await openMcp(agentEnv(t.url, projectId, { AUTOCODER_RUN_ID: RUN, AUTOCODER_FEATURE_ID: '2' }));
  });
  after(async () => mcp?.close());

  const fields = [
    { id: 'stripe_key', label: 'Stripe secret key', type: 'text', placeholder: 'sk_live_…' },
    {
      id: 'mode',
      label: 'Mode',
      type: 'select',
      options: [
        { value: 'test', label: 'Test' },
        { value: 'live', label: 'Live' },
      ],
    },
  ];

  test('feature_request_human_input records the request; the feature then needs human input', async () => {
    const result = await mcp.ok<{ success: boolean; feature_id: number; request_id: number; message: string }>(
      'feature_request_human_input',
      {
        feature_id: 2,
        prompt: 'Payments need a Stripe account only the owner can create.',
        fields,
      },
    );
    assert.equal(result.success, true);
    assert.match(result.message, /needs human input/);
    const [request] = await listHumanRequests(t.db, { projectId, open: true });
    assert.deepEqual(
      [
        request?.id,
        request?.feature_id,
        request?.run_id,
        request?.kind,
        request?.question,
        request?.answer,
        request?.answered_at,
      ],
      [result.request_id, 2, RUN, 'feature', 'Payments need a Stripe account only the owner can create.', null, null],
    );
    assert.deepEqual(
      (request?.options as Array<{ id: string; type: string; required: boolean }>).map((f) => [
        f.id,
        f.type,
        f.required,
      ]),
      [
        ['stripe_key', 'text', true],
        ['mode', 'select', true],
      ],
    );

    const f = await mcp.ok('feature_get_by_id', { feature_id: 2 });
    assert.equal(f.needs_human_input, true);
    assert.deepEqual(f.human_input_request, {
      id: result.request_id,
      prompt: 'Payments need a Stripe account only the owner can create.',
      fields: request?.options,
    });
    assert.equal((await mcp.ok('feature_get_stats')).needs_human_input, 1);
    assert.equal((await mcp.ok('feature_get_summary', { feature_id: 2 })).needs_human_input, true);
    const ready = await mcp.ok<{ features: Array<{ id: number }> }>('feature_get_ready');
    assert.deepEqual(
      ready.features.map((x) => x.id),
      [3],
      'a feature waiting for a person is not ready',
    );
    const graph = await mcp.ok<{ nodes: Array<{ id: number; status: string }> }>('feature_get_graph');
    assert.equal(graph.nodes.find((n) => n.id === 2)?.status, 'needs_human_input');
    assert.match(await mcp.fails('feature_claim_and_get', { feature_id: 2 }), /waiting for a human answer/);

    // Once answered, the answer shows and the feature is free again.
    assert.equal(
      await answerHumanRequest(t.db, {
        projectId,
        requestId: result.request_id,
        answer: { stripe_key: 'sk_test_1', mode: 'test' },
      }),
      true,
    );
    const answered = await mcp.ok('feature_get_by_id', { feature_id: 2 });
    assert.deepEqual(
      [answered.needs_human_input, answered.human_input_response],
      [false, { stripe_key: 'sk_test_1', mode: 'test' }],
    );
    assert.equal((await mcp.ok('feature_claim_and_get', { feature_id: 2 })).already_claimed, false);
  });

  test('feature_request_human_input rejects bad requests', async () => {
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ feature_id: 3, prompt: '', fields }, /prompt must not be empty/],
      [{ feature_id: 3, prompt: 'p', fields: [] }, /fields must list at least one field/],
      [{ feature_id: 3, prompt: 'p', fields: [{ id: 'a' }] }, /label/],
      [{ feature_id: 3, prompt: 'p', fields: [{ id: ' ', label: 'x' }] }, /field id must not be empty/],
      [
        { feature_id: 3, prompt: 'p', fields: [{ id: 'a', label: 'x', type: 'color' }] },
        /field type must be one of text, textarea, select, boolean/,
      ],
      [
        { feature_id: 3, prompt: 'p', fields: [{ id: 'a', label: 'x', type: 'select' }] },
        /a field of type 'select' needs an options list/,
      ],
      [
        {
          feature_id: 3,
          prompt: 'p',
          fields: [
            { id: 'a', label: 'x' },
            { id: 'a', label: 'y' },
          ],
        },
        /field ids must be unique/,
      ],
      [{ feature_id: 1, prompt: 'p', fields }, /feature #1 already passes; it needs no human input/],
      [{ feature_id: 404, prompt: 'p', fields }, /has no feature #404/],
      [{ feature_id: 0, prompt: 'p', fields }, /feature_id must be ≥ 1/],
    ];
    for (const [args, expected] of cases)
      assert.match(await mcp.fails('feature_request_human_input', args), expected, JSON.stringify(args));
    assert.equal((await listHumanRequests(t.db, { projectId, featureId: 3 })).length, 0);
  });

  test('ask_user records the questions and tells the agent no answer comes in this session', async () => {
    const questions = [
      {
        question: 'Which database should the app use?',
        header: 'Database',
        options: [
          { label: 'SQLite', description: 'simple' },
          { label: 'Postgres', description: 'scales' },
        ],
        multiSelect: false,
      },
    ];
    const result = await mcp.ok<{ success: boolean; request_id: number; message: string }>('ask_user', { questions });
    assert.match(result.message, /no answer will arrive in this session/);
    const request = (await listHumanRequests(t.db, { projectId })).find((r) => r.id === result.request_id);
    assert.deepEqual(
      [request?.kind, request?.feature_id, request?.run_id, request?.question],
      ['ask', 2, RUN, 'Which database should the app use?'],
    );
    assert.deepEqual(request?.options, questions);
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ questions: [] }, /questions must list at least one question/],
      [{ questions: [{ ...questions[0], options: [{ label: 'only one' }] }] }, /each question needs 2-4 options/],
      [
        { questions: [{ ...questions[0], options: Array.from({ length: 5 }, (_, i) => ({ label: `o${i}` })) }] },
        /each question needs 2-4 options/,
      ],
      [{ questions: [{ header: 'h', options: questions[0]!.options }] }, /question/],
      [{ questions: 'what?' }, /questions must be a list of questions/],
    ];
    for (const [args, expected] of cases)
      assert.match(await mcp.fails('ask_user', args), expected, JSON.stringify(args));
  });
});
