/**
 * Notifications against a local HTTP server: request.opened, request.reminder (a 1.5 s test
 * setting) and run.completed arrive in that order with the documented body; a webhook that
 * answers 500 or never answers does not stop or slow the run, and its failures show in status.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNotifyActivities } from '../../src/activities/notify.ts';
import { answerFeatureUpdate } from '../../src/workflows/messages.ts';
import type { NotificationBody } from '../../src/workflows/notifications.ts';
import { queryStatus, repoRoot, waitForResult, waitUntil, withTemporal } from '../support/temporal.ts';

const t = withTemporal();
const agentCmd = [join(repoRoot, 'test/fixtures/agents/asks-once')];

type Mode = 'ok' | '500' | 'hang';
const received = new Map<string, NotificationBody[]>();
let server: Server;
let base = '';

before(async () => {
  server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const mode = (req.url ?? '/ok').split('/')[1] as Mode;
      const list = received.get(req.url ?? '') ?? [];
      list.push(JSON.parse(text) as NotificationBody);
      received.set(req.url ?? '', list);
      if (mode === 'hang') return; // never answers
      res.writeHead(mode === '500' ? 500 : 204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

async function askAndAnswer(mode: Mode, name: string) {
  const project = await t.seedProject(
    [
      { id: 1, name: 'header' },
      { id: 2, name: 'button colour' },
    ],
    { base: name },
  );
  const path = `/${mode}/${project}`;
  const handle = await t.startRun(project, {
    agent: 'command',
    agentCmd,
    notifyUrl: `${base}${path}`,
    remindAfterMs: 1500,
  });
  await waitUntil('waiting for a person', async () => (await queryStatus(handle)).phase === 'waiting_for_human', {
    timeoutMs: 60_000,
  });
  return { project, path, handle };
}

const events = (path: string) => (received.get(path) ?? []).map((b) => b.event);

test('open, reminder and completion arrive in order, each with the documented body', async () => {
  const { project, path, handle } = await askAndAnswer('ok', 'notify');
  await waitUntil('a reminder', () => events(path).includes('request.reminder'), { timeoutMs: 20_000 });
  await handle.executeUpdate(answerFeatureUpdate, { args: [{ featureId: 2, option: 2 }] });
  const result = await waitForResult(handle, 60_000);
  assert.equal(result.outcome, 'complete', result.message);
  await waitUntil('the completion event', () => events(path).includes('run.completed'), { timeoutMs: 20_000 });

  const seen = events(path);
  assert.equal(seen[0], 'request.opened');
  assert.equal(seen.at(-1), 'run.completed');
  assert.ok(
    seen.slice(1, -1).every((e) => e === 'request.reminder'),
    seen.join(', '),
  );
  const [opened] = received.get(path)!;
  assert.deepEqual(opened, {
    event: 'request.opened',
    project,
    feature: 2,
    question: 'Which colour should the button be?',
    answerCommand: `autocoder answer ${project} 2 --option 1`,
    uiUrl: null,
    text: `autocoder: ${project} #2 asks: Which colour should the button be? | answer: autocoder answer ${project} 2 --option 1`,
  });
  const done = received.get(path)!.at(-1)!;
  assert.deepEqual(
    [done.feature, done.question, done.answerCommand, done.text],
    [null, null, null, `autocoder: ${project} completed: all 2 features pass`],
  );
  const final = await queryStatus(handle);
  assert.deepEqual([final.notifications?.failed, final.notifications?.lastError], [0, null]);
});

test('a webhook answering 500: failures show in status, the run completes anyway', async () => {
  const { path, handle } = await askAndAnswer('500', 'notify-500');
  const status = await waitUntil(
    'the failure in status',
    async () => {
      const s = await queryStatus(handle);
      return (s.notifications?.failed ?? 0) > 0 && s;
    },
    { timeoutMs: 30_000 },
  );
  assert.match(status.notifications?.lastError ?? '', /^request\.opened: the webhook answered HTTP 500$/);
  assert.ok((received.get(path)?.length ?? 0) >= 3, 'retried');
  await handle.executeUpdate(answerFeatureUpdate, { args: [{ featureId: 2, text: 'blue' }] });
  assert.equal((await waitForResult(handle, 60_000)).outcome, 'complete');
});

test('a webhook that never answers does not slow the run', async () => {
  const { handle } = await askAndAnswer('hang', 'notify-hang');
  const answeredAt = Date.now();
  await handle.executeUpdate(answerFeatureUpdate, { args: [{ featureId: 2, text: 'blue' }] });
  assert.equal((await waitForResult(handle, 60_000)).outcome, 'complete');
  const took = Date.now() - answeredAt;
  assert.ok(took < 5000, `completed ${took} ms after the answer, within one webhook timeout`);
});

test('a budget pause sends run.paused once (an operator pause would not)', async () => {
  // A command agent that reports 0.60 through `feature usage` and passes: over the 0.50 budget after #1.
  const dir = mkdtempSync(join(tmpdir(), 'ac-notify-pause-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const script = join(dir, 'spend-agent.sh');
  const bin = join(repoRoot, 'bin/autocoder');
  writeFileSync(
    script,
    `#!/bin/sh\n"${bin}" feature usage --cost-usd 0.60 || exit 3\n"${bin}" feature pass "$AUTOCODER_FEATURE_ID"\n`,
    { mode: 0o755 },
  );
  const project = await t.seedProject(
    [
      { id: 1, name: 'first' },
      { id: 2, name: 'second' },
    ],
    { base: 'notify-pause' },
  );
  const path = `/ok/${project}`;
  const handle = await t.startRun(project, {
    agent: 'command',
    agentCmd: [script],
    concurrency: 1,
    testingRatio: 0,
    budgetUsd: 0.5,
    quotaKey: `test-${project}`,
    notifyUrl: `${base}${path}`,
  });
  await waitUntil('run.paused', () => events(path).includes('run.paused'), { timeoutMs: 60_000 });
  const paused = received.get(path)!.find((b) => b.event === 'run.paused')!;
  assert.deepEqual([paused.project, paused.feature, paused.question], [project, null, null]);
  assert.match(paused.text, /paused \(budget\)/);
  assert.equal((await queryStatus(handle)).pause?.reason, 'budget');
  await new Promise((resolve) => setTimeout(resolve, 1500)); // more passes, still paused: no second event
  assert.equal(events(path).filter((e) => e === 'run.paused').length, 1);
  await handle.terminate('test done');
});

test('postNotification: no URL in its errors, a timeout of its own', async () => {
  const post = createNotifyActivities({ timeoutMs: 300 }).postNotification;
  const body = {
    event: 'run.completed',
    project: 'p',
    feature: null,
    question: null,
    answerCommand: null,
    uiUrl: null,
    text: 't',
  } as const;
  await post({ url: `${base}/ok/unit`, body });
  await assert.rejects(
    post({ url: `${base}/500/unit?token=secret`, body }),
    (err: Error) => err.message === 'the webhook answered HTTP 500',
  );
  await assert.rejects(
    post({ url: `${base}/hang/unit?token=secret`, body }),
    (err: Error) => /did not answer within 0.3 s/.test(err.message) && !err.message.includes('secret'),
  );
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const closedPort = (closed.address() as AddressInfo).port;
  await new Promise((resolve) => closed.close(resolve));
  await assert.rejects(post({ url: `http://127.0.0.1:${closedPort}/x?token=secret`, body }), (err: Error) =>
    /could not be reached \(ECONNREFUSED\)/.test(err.message),
  );
});
