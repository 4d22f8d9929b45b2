/** Pure parts of hosts and metrics: worker identities, capacity against concurrency, the --metrics flag. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  capacityOf,
  describeCapacity,
  describeHome,
  parseWorkerIdentity,
  workerIdentity,
  type LiveWorker,
} from '../../src/metrics/capacity.ts';
import { metricsAddressOf, metricsFlag } from '../../src/cli/options.ts';
import { UserError } from '../../src/errors.ts';

const live = (host: string, maxAgents: number, pid = 1): LiveWorker => ({
  identity: workerIdentity({ pid, hostId: host, maxAgents }),
  host,
  maxAgents,
  lastPollMs: 0,
});

test('a worker identity names its host and cap, and reads back; other identities are not ours', () => {
  assert.equal(workerIdentity({ pid: 42, hostId: 'build-2', maxAgents: 8 }), '42@build-2 max-agents=8');
  assert.deepEqual(parseWorkerIdentity('42@build-2 max-agents=8'), { host: 'build-2', maxAgents: 8 });
  assert.equal(parseWorkerIdentity('42@build-2'), null, "the SDK's default identity carries no cap");
  assert.equal(parseWorkerIdentity(''), null);
});

test("capacity adds up the hosts' caps (two workers on one host add up) and is short below the concurrency", () => {
  const workers = [live('a', 20, 1), live('a', 5, 2), live('b', 20)];
  const capacity = capacityOf(workers, 50);
  assert.deepEqual(capacity.hosts, [
    { host: 'a', maxAgents: 25, workers: 2 },
    { host: 'b', maxAgents: 20, workers: 1 },
  ]);
  assert.equal(capacity.maxAgents, 45);
  assert.equal(capacity.short, true);
  assert.equal(
    describeCapacity(capacity),
    "capacity: live hosts a (25), b (20) run at most 45 agents, below concurrency 50: the run goes at the hosts' pace (add hosts or raise `worker --max-agents`)",
  );
  assert.equal(capacityOf(workers, 45).short, false);
  assert.equal(describeCapacity(capacityOf(workers, 45)), null);
  assert.match(describeCapacity(capacityOf([], 3)) ?? '', /no autocoder worker polled lately/);
});

test("the run's home host without a live worker gets a line saying what waits for it", () => {
  const workers = [live('a', 20), live('b', 20)];
  assert.equal(describeHome(capacityOf(workers, 3, 'a')), null);
  assert.equal(describeHome(capacityOf(workers, 3)), null, 'no home host: any host will do');
  assert.equal(capacityOf(workers, 3, 'c').homeLive, false);
  assert.equal(
    describeHome(capacityOf(workers, 3, 'c')),
    "home host c (the project dir's) has no live worker: the merge queue, the initializer and shared-isolation agents wait for it (start `autocoder worker` there)",
  );
});

test('--metrics: host:port, a bare port on loopback, alone 127.0.0.1:9464; a bad one is refused naming it', () => {
  const parse = metricsFlag('--metrics');
  assert.equal(parse('127.0.0.1:9464'), '127.0.0.1:9464');
  assert.equal(parse('9500'), '127.0.0.1:9500');
  assert.equal(parse('[::1]:9464'), '[::1]:9464');
  assert.equal(metricsAddressOf(true), '127.0.0.1:9464');
  assert.equal(metricsAddressOf(undefined), undefined);
  for (const bad of ['localhost', ':9464', '127.0.0.1:70000', 'http://x:1'])
    assert.throws(
      () => parse(bad),
      (err: unknown) =>
        err instanceof UserError && err.message.includes('--metrics must be host:port') && err.message.includes(bad),
    );
});
