/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) against a real
 * stack: a simulated run moves features on the board; stop and retry of a feature; a human
 * request answered from the page; a hostile feature name shown as text. Screenshots go to
 * .autocoder-test/artifacts/ui/.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createHumanRequest } from '../../src/db/human-requests.ts';
import { startUiServer, type UiServer } from '../../src/ui/server.ts';
import {
  agentRunsOf,
  queryStatus,
  repoRoot,
  signalsIn,
  waitForResult,
  waitUntil,
  withTemporal,
  type TestWorker,
} from '../support/temporal.ts';
import { chromiumPath } from './browser.ts';

const t = withTemporal({ name: 'ui' });
const artifacts = join(repoRoot, '.autocoder-test', 'artifacts', 'ui');
const XSS = '<img src=x onerror=alert(1)>';

let browser: Browser;
let server: UiServer;
let worker: TestWorker;
let page: Page;
const alerts: string[] = [];

// Set up in the first test that needs it: withTemporal's own before() hook must have run.
async function setUp(): Promise<void> {
  if (browser) return;
  mkdirSync(artifacts, { recursive: true });
  worker = await t.startWorker();
  server = await startUiServer({
    db: t.db,
    client: t.client,
    namespace: t.stack.namespace,
    taskQueue: t.taskQueue,
    temporalUiUrl: 'http://127.0.0.1:8233',
    access: { token: null, host: '127.0.0.1', port: 0 },
  });
  browser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  page.on('dialog', (dialog) => {
    if (dialog.type() === 'confirm') return void dialog.accept();
    alerts.push(dialog.message());
    return void dialog.dismiss();
  });
}

after(async () => {
  await browser?.close();
  await server?.close();
  await worker?.stop();
});

const columnOf = (id: number) =>
  page.evaluate((fid) => {
    const card = document.querySelector(`.card[data-feature="${fid}"]`);
    return card?.closest<HTMLElement>('[data-column]')?.dataset.column ?? null;
  }, id);

const isAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('board, live moves, stop and retry, human input, hostile text', async () => {
  await setUp();
  const projectId = await t.seedProject(
    [
      { id: 1, name: 'Hangs until stopped' },
      { id: 2, name: 'Login form' },
      { id: 3, name: 'Search' },
      { id: 4, name: 'Dashboard', dependencies: [2] },
      { id: 5, name: XSS },
      { id: 6, name: 'Payments', dependencies: [1] },
    ],
    { base: 'ui' },
  );
  const handle = await t.startRun(projectId, {
    concurrency: 3,
    simulate: {
      default: { action: 'pass', delayMs: 1500 },
      features: { '1': { action: 'hang' }, '3': { action: 'hang' } },
    },
  });

  await page.goto(server.url);
  await page.waitForSelector(`tr[data-project="${projectId}"]`);
  await page.screenshot({ path: join(artifacts, 'projects.png'), fullPage: true });

  await page.goto(`${server.url}#/p/${projectId}`);
  await page.waitForFunction(() => document.querySelectorAll('.card').length === 6);

  // A feature moves column within 2 s of its state changing in the store.
  let passedInDb = 0;
  let passedOnPage = 0;
  await waitUntil(
    'feature #2 to pass in the store and then on the board',
    async () => {
      if (!passedInDb) {
        const row = await t.db
          .selectFrom('features')
          .select('passes')
          .where('project_id', '=', projectId)
          .where('id', '=', 2)
          .executeTakeFirst();
        if (row?.passes) passedInDb = Date.now();
      }
      if (passedInDb && (await columnOf(2)) === 'passing') passedOnPage = Date.now();
      return passedOnPage;
    },
    { timeoutMs: 30_000, intervalMs: 50 },
  );
  assert.ok(passedOnPage - passedInDb < 2000, `moved ${passedOnPage - passedInDb} ms after the change`);

  // Hostile text is text: the card shows the name, no element or script comes of it.
  const card5 = await page.textContent('.card[data-feature="5"] .name');
  assert.equal(card5, XSS);
  assert.equal(await page.locator('.board img').count(), 0);

  // Stop a running feature from its panel: the process tree dies, the feature is held.
  const run1 = await waitUntil('feature #1 to run with a pid', async () =>
    (await agentRunsOf(t.db, projectId, 'coding')).find((r) => r.feature_id === 1 && r.pid && !r.ended_at),
  );
  await page.goto(`${server.url}#/p/${projectId}/f/1`);
  await page.click('[data-testid="stop-feature"]');
  await waitUntil('the agent of feature #1 to be dead', () => !isAlive(run1.pid!), { timeoutMs: 15_000 });
  await waitUntil('feature #1 to show held', async () => (await columnOf(1)) === 'held', { timeoutMs: 5000 });
  await page.screenshot({ path: join(artifacts, 'feature-panel.png'), fullPage: true });

  await page.click('[data-testid="retry-feature"]');
  await waitUntil(
    'feature #1 to run again',
    async () =>
      (await agentRunsOf(t.db, projectId, 'coding')).some((r) => r.feature_id === 1 && r.id !== run1.id) &&
      (await columnOf(1)) === 'running',
    { timeoutMs: 15_000 },
  );

  // A human request, answered from the page through the same function the CLI and MCP use.
  const request = await createHumanRequest(t.db, {
    projectId,
    featureId: 6,
    runId: 'test',
    kind: 'feature',
    question: 'Which Stripe key? <b>bold?</b>',
    options: [],
  });
  await page.goto(`${server.url}#/p/${projectId}`);
  await page.waitForSelector(`[data-testid="answer-${request.id}"]`);
  await waitUntil('feature #6 to show needs input', async () => (await columnOf(6)) === 'needs_input', {
    timeoutMs: 5000,
  });
  await page.fill(`[data-testid="answer-${request.id}"]`, 'sk_test_123');
  await page.click(`[data-testid="send-answer-${request.id}"]`);
  await waitUntil('the answer to be stored', async () => {
    const row = await t.db
      .selectFrom('human_requests')
      .select(['answer', 'answered_at'])
      .where('id', '=', request.id)
      .executeTakeFirst();
    return row?.answered_at && row.answer === 'sk_test_123';
  });

  // The graph: every feature a node, a click opens the feature.
  await page.click('[data-testid="graph-tab"]');
  await page.waitForSelector('[data-node="4"]');
  await page.click('[data-node="4"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="panel-title"]')?.textContent?.includes('#4'));
  await page.goto(`${server.url}#/p/${projectId}`);
  await page.click('[data-testid="board-tab"]');
  await page.waitForFunction(() => document.querySelectorAll('.card').length === 6);
  await page.screenshot({ path: join(artifacts, 'project.png'), fullPage: true });

  assert.deepEqual(alerts, [], 'no script ran');
  await handle.signal('stop');
});

test('run controls: live log, pause and resume, concurrency (and its validator), add a feature, drain, stop', async () => {
  await setUp();
  const projectId = await t.seedProject(
    [
      { id: 1, name: 'Prints and hangs' },
      { id: 2, name: 'Waits for a slot' },
    ],
    { base: 'ctl' },
  );
  const handle = await t.startRun(projectId, { concurrency: 1, simulate: { default: { action: 'hang' } } });
  const first = await waitUntil('one agent to run with a pid', async () =>
    (await agentRunsOf(t.db, projectId, 'coding')).find((r) => r.pid && !r.ended_at),
  );
  await page.goto(`${server.url}#/p/${projectId}`);
  await page.waitForSelector('[data-testid="pause"]');

  // The live log shows the line the agent printed (src/agents/simulate-agent.ts) when it started.
  await page.click(`[data-agent="${first.id}"] [data-testid="tail"]`);
  await page.waitForFunction(
    (id) => document.querySelector('[data-testid="log"]')?.textContent?.includes(`[Feature #${id}] simulated coding`),
    first.feature_id,
  );

  // Pause, then resume: the run's status says so, and the header shows it.
  await page.click('[data-testid="pause"]');
  await waitUntil('the run to be paused', async () => (await queryStatus(handle)).paused);
  await page.waitForSelector('[data-testid="paused"]');
  await page.click('[data-testid="resume"]');
  await waitUntil('the run to resume', async () => !(await queryStatus(handle)).paused);
  await page.waitForSelector('[data-testid="paused"]', { state: 'detached' });

  // 60 is over the run's maximum (maxConcurrency, default 50): its update validator refuses it, and
  // the page says why beside the control.
  await page.fill('[data-testid="input-concurrency"]', '60');
  await page.click('[data-testid="set-concurrency"]');
  const refused = page.locator('.control:has([data-testid="set-concurrency"]) .error');
  await refused.filter({ hasText: 'concurrency must be an integer in 1..50, got 60' }).waitFor();
  assert.equal((await queryStatus(handle)).settings.concurrency, 1);
  // 2 is taken: the second feature starts.
  await page.fill('[data-testid="input-concurrency"]', '2');
  await page.click('[data-testid="set-concurrency"]');
  await waitUntil('both features to run', async () => {
    const running = (await agentRunsOf(t.db, projectId, 'coding')).filter((r) => !r.ended_at);
    return running.length === 2 && (await queryStatus(handle)).settings.concurrency === 2;
  });
  assert.equal(await refused.textContent(), '', 'the old error is cleared');

  // Add a feature depending on #1: stored through createFeatures, and on the board as pending.
  await page.click('details.add summary');
  await page.fill('[data-testid="new-name"]', 'Added from the page');
  await page.fill('[data-testid="new-deps"]', '1');
  await page.click('[data-testid="add-feature"]');
  const added = await waitUntil('the new feature to be stored', () =>
    t.db
      .selectFrom('features')
      .select(['id', 'dependencies'])
      .where('project_id', '=', projectId)
      .where('name', '=', 'Added from the page')
      .executeTakeFirst(),
  );
  assert.deepEqual(added.dependencies, [1]);
  await waitUntil('the new card to show pending', async () => (await columnOf(added.id)) === 'pending', {
    timeoutMs: 5000,
  });

  // Drain: the run starts nothing new (its phase says so); then stop: every agent dies, the run ends.
  await page.click('[data-testid="drain"]');
  await waitUntil('the run to drain', async () => (await queryStatus(handle)).phase === 'draining');
  const pids = (await agentRunsOf(t.db, projectId, 'coding')).filter((r) => !r.ended_at).map((r) => r.pid!);
  await page.click('[data-testid="stop-run"]');
  const result = await waitForResult(handle, 30_000);
  assert.equal(result.outcome, 'stopped');
  await waitUntil('every agent to be dead', () => pids.every((pid) => !isAlive(pid)), { timeoutMs: 15_000 });
  const events = (await handle.fetchHistory()).events ?? [];
  assert.deepEqual(
    ['pause', 'resume', 'drain', 'stop'].map((name) => signalsIn(events, name).length),
    [1, 1, 1, 1],
    'each control sent its signal once',
  );
  await page.waitForFunction(() =>
    document.querySelector('[data-testid="run"]')?.textContent?.includes('ended stopped'),
  );
  await page.waitForSelector('[data-testid="start-run"]');

  // Edit a feature's text from its panel: stored through editFeature, recorded as an edit.
  await page.goto(`${server.url}#/p/${projectId}/f/2`);
  await page.click('[data-testid="edit-feature"]');
  await page.fill('[data-testid="edit-name"]', 'Renamed <b>from</b> the page');
  await page.fill('[data-testid="edit-steps"]', 'open the page\nsee the new name');
  await page.click('[data-testid="save-edit"]');
  await waitUntil('the edit to be stored', async () => {
    const row = await t.db
      .selectFrom('features')
      .select(['name', 'steps'])
      .where('project_id', '=', projectId)
      .where('id', '=', 2)
      .executeTakeFirstOrThrow();
    return (
      row.name === 'Renamed <b>from</b> the page' &&
      JSON.stringify(row.steps) === '["open the page","see the new name"]'
    );
  });
  const edit = await t.db
    .selectFrom('feature_events')
    .select(['run_id', 'action'])
    .where('project_id', '=', projectId)
    .where('feature_id', '=', 2)
    .where('action', '=', 'edit')
    .executeTakeFirstOrThrow();
  assert.equal(edit.run_id, 'operator:ui');
  await page.waitForFunction(() =>
    document.querySelector('.card[data-feature="2"] .name')?.textContent?.startsWith('Renamed <b>'),
  );
  // A blank name is refused as `features import` refuses it, the field named beside the control.
  await page.fill('[data-testid="edit-name"]', '   ');
  await page.click('[data-testid="save-edit"]');
  await page.locator('.control:has([data-testid="save-edit"]) .error').filter({ hasText: /name/ }).waitFor();
});

test('off loopback: a token is required, kept in a cookie, and controls need the same origin', async () => {
  const token = 'test-token-0123456789abcdef';
  const open = await startUiServer({
    db: t.db,
    client: t.client,
    namespace: t.stack.namespace,
    taskQueue: t.taskQueue,
    temporalUiUrl: null,
    access: { token, host: '0.0.0.0', port: 0 },
  });
  try {
    const base = `http://127.0.0.1:${open.port}`;
    assert.equal((await fetch(`${base}/`)).status, 401);
    assert.equal((await fetch(`${base}/api/projects`)).status, 401);
    assert.equal((await fetch(`${base}/api/projects/x/events`)).status, 401);
    assert.equal((await fetch(`${base}/?token=wrong-token-0123456789`, { redirect: 'manual' })).status, 401);
    const login = await fetch(`${base}/?token=${token}`, { redirect: 'manual' });
    assert.equal(login.status, 303);
    assert.equal(login.headers.get('location'), '/');
    const cookie = login.headers.get('set-cookie') ?? '';
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    const jar = cookie.split(';')[0]!;
    assert.equal((await fetch(`${base}/api/projects`, { headers: { cookie: jar } })).status, 200);
    // A control with the cookie but from another origin (CSRF) is refused.
    const forged = await fetch(`${base}/api/projects/x/control`, {
      method: 'POST',
      headers: { cookie: jar, origin: 'http://evil.example', 'content-type': 'application/json' },
      body: '{"action":"stop"}',
    });
    assert.equal(forged.status, 403);
    const bad = await fetch(`${base}/api/projects/Bad!/control`, {
      method: 'POST',
      headers: { cookie: jar, origin: base, 'content-type': 'application/json' },
      body: '{"action":"stop"}',
    });
    assert.equal(bad.status, 400);
    assert.match(((await bad.json()) as { error: string }).error, /project/);
    // Dependency edits get the feature import's validation: a cycle is refused and named.
    const project = await t.seedProject([
      { id: 1, name: 'a' },
      { id: 2, name: 'b', dependencies: [1] },
    ]);
    const cycle = await fetch(`${base}/api/projects/${project}/features/1/dependencies`, {
      method: 'POST',
      headers: { cookie: jar, origin: base, 'content-type': 'application/json' },
      body: '{"dependencies":[2]}',
    });
    assert.equal(cycle.status, 400);
    assert.match(((await cycle.json()) as { error: string }).error, /cycle.*1.*2/);
  } finally {
    await open.close();
  }
  // The command refuses a non-loopback host without a token (exit 2) before it starts anything.
  const env = { ...process.env, AUTOCODER_UI_TOKEN: '' };
  let status = 0;
  let stderr = '';
  try {
    execFileSync(join(repoRoot, 'bin/autocoder'), ['ui', '--host', '0.0.0.0'], { env, stdio: 'pipe' });
  } catch (err) {
    status = (err as { status: number }).status;
    stderr = String((err as { stderr: Buffer }).stderr);
  }
  assert.equal(status, 2);
  assert.match(stderr, /needs a token/);
  assert.match(stderr, /--token/);
  assert.match(stderr, /AUTOCODER_UI_TOKEN/);
});

test('`autocoder ui --no-worker` serves the dashboard on a free port and stops on SIGTERM', async () => {
  const projectId = await t.seedProject([{ id: 1, name: 'Served by the command' }], { base: 'cmd' });
  const child = spawn(join(repoRoot, 'bin/autocoder'), ['ui', '--port', '0', '--no-worker'], {
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: t.stack.address,
      TEMPORAL_NAMESPACE: t.stack.namespace,
      DATABASE_URL: t.databaseUrl,
      AUTOCODER_HOME: t.stateDir,
      AUTOCODER_UI_TOKEN: '',
      NODE_TEST_CONTEXT: undefined,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  try {
    let out = '';
    child.stderr.on('data', (chunk: Buffer) => (out += chunk.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        const link = /dashboard: (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out)?.[1];
        if (link && out.includes('no worker here (--no-worker)')) resolve(link); // its last line at start
      });
      void exited.then((code) => reject(new Error(`autocoder ui exited (${code}) before serving: ${out}`)));
    });
    const page = await fetch(url);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<script type="module"/);
    const projects = (await (await fetch(`${url}api/projects`)).json()) as { id: string }[];
    assert.ok(
      projects.some((p) => p.id === projectId),
      'the project is listed',
    );
  } finally {
    process.kill(child.pid!, 'SIGTERM');
  }
  assert.equal(await exited, 0);
});
