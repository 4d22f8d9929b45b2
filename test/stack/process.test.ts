import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import {
  findFreePorts,
  isRecordAlive,
  portAnswers,
  portIsFree,
  processStartTime,
  stopRecordedProcess,
  type ProcessRecord,
} from '../../src/stack/process.ts';

function recordOf(pid: number, startTime: string): ProcessRecord {
  return { pid, startTime, ports: {}, startedAt: new Date().toISOString() };
}

describe('process identity', () => {
  test('a live process has a stable start time; a record with another start time is not alive', () => {
    const mine = processStartTime(process.pid);
    assert.ok(mine);
    assert.equal(processStartTime(process.pid), mine);
    assert.equal(isRecordAlive(recordOf(process.pid, mine)), true);
    // Same pid, different start time = a reused pid: never ours.
    assert.equal(isRecordAlive(recordOf(process.pid, `${mine}0`)), false);
    assert.equal(processStartTime(2 ** 22 + 12345), undefined);
  });

  test('stopRecordedProcess signals only a matching process, and escalates to SIGKILL', async () => {
    // A child that ignores SIGTERM, so only the escalation stops it.
    const child = spawn(
      process.execPath,
      ['-e', "process.on('SIGTERM', () => {}); setInterval(() => {}, 1000); console.log('ready')"],
      { stdio: ['ignore', 'pipe', 'ignore'] },
    );
    await new Promise((resolve) => child.stdout.once('data', resolve));
    const pid = child.pid!;
    const startTime = processStartTime(pid)!;

    assert.equal(
      await stopRecordedProcess(recordOf(pid, `${startTime}x`), { signal: 'SIGTERM', graceMs: 100 }),
      'not-running',
    );
    assert.ok(processStartTime(pid), 'a record with the wrong start time did not touch the process');

    const exited = new Promise((resolve) => child.once('exit', resolve));
    assert.equal(await stopRecordedProcess(recordOf(pid, startTime), { signal: 'SIGTERM', graceMs: 300 }), 'killed');
    await exited;
    assert.equal(processStartTime(pid), undefined);
  });
});

describe('ports', () => {
  test('free ports are distinct and free; a held port is neither free nor silent', async () => {
    const ports = await findFreePorts(3);
    assert.equal(new Set(ports).size, 3);
    assert.equal(await portIsFree(ports[0]!), true);
    const server = createServer();
    await new Promise<void>((resolve) => server.listen({ port: ports[0]!, host: '127.0.0.1' }, resolve));
    try {
      assert.equal(await portIsFree(ports[0]!), false);
      assert.equal(await portAnswers('127.0.0.1', ports[0]!), true);
    } finally {
      server.close();
    }
    assert.equal(await portAnswers('127.0.0.1', ports[1]!, 500), false);
  });
});
