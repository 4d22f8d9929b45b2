/**
 * The dashboard in a real browser (Debian's chromium through playwright-core) against a real
 * stack: a simulated run moves features on the board; stop and retry of a feature; a human
 * request answered from the page; a hostile feature name shown as text. Screenshots go to
 * .autocoder-test/artifacts/ui/.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { createHumanRequest } from '../../src/db/human-requests.ts';
import { startUiServer, type UiServer } from '../../src/ui/server.ts';
import { agentRunsOf, repoRoot, waitUntil, withTemporal, type TestWorker } from '../support/temporal.ts';
import { chromiumPath } from './browser.ts';

const t = withTemporal({ name: 'ui' });
const artifacts = join(repoRoot, '.autocoder-test', 'artifacts', 'ui');
const XSS = '<img src=x onerror=alert(1)>';

let browser: Browser;
let server: UiServer;
let worker: TestWorker;
let page: Page;
const alerts: string[] = [];

// Set up in the first test: withTemporal's own before() hook must have run.
async function setUp(): Promise<void> {
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
  await page.waitForFunction(() => document.querySelectorAll('.card').length === 6);
  await page.screenshot({ path: join(artifacts, 'project.png'), fullPage: true });

  assert.deepEqual(alerts, [], 'no script ran');
  await handle.signal('stop');
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
});
