/**
 * The spawn helper: a small Node process that starts launchers for the worker and tells it when
 * they exit. fork() copies the page tables of the process that calls it, so a spawn costs time
 * in proportion to the caller's memory: at a worker's ~250 MB, ~11 ms of its CPU per spawn and
 * ~20 ms to the handle, against ~2 ms and ~4–7 ms through the helper (`npm run bench:spawn`),
 * paid on the path from a dependency's exit to its dependant's start.
 *
 * The launcher is the helper's child, not the worker's: its exit comes over the IPC channel. If
 * the helper goes away, the launchers it started run on (each leads its own session) and their
 * handles watch them through /proc, as an adopted run is watched; the next spawn starts a new
 * helper. A request in flight when it goes is SpawnHelperLost: a launcher may exist, so the
 * caller must not count the attempt as failed (a retry of the activity finds it by its run ID).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ForkedLauncher, LauncherFork } from './fork-launcher.ts';
import type { LauncherEnd } from './handle.ts';
import { whenGone } from './proc.ts';

const HELPER_PATH = fileURLToPath(new URL('./spawn-helper-process.ts', import.meta.url));
const GONE_POLL_MS = 250;

export type HelperRequest = LauncherFork & { id: number };
export type HelperReply =
  | { type: 'spawned'; id: number; pid: number; startTime: number | null }
  | { type: 'failed'; id: number; error: string }
  | { type: 'exit'; pid: number; code: number | null; signal: NodeJS.Signals | null };

/** The helper went away while a spawn was in flight: a launcher may or may not have started. */
export class SpawnHelperLost extends Error {
  override name = 'SpawnHelperLost';
}

type Pending = { resolve: (spawned: ForkedLauncher) => void; reject: (err: Error) => void };
type Running = { startTime: number | null; resolve: (end: LauncherEnd) => void };

class SpawnHelper {
  readonly #child: ChildProcess;
  #nextId = 1;
  readonly #pending = new Map<number, Pending>();
  readonly #running = new Map<number, Running>();
  #gone = false;

  constructor() {
    // No execArgv of ours (heap sizes, inspector): the helper is not a worker.
    this.#child = spawn(process.execPath, [HELPER_PATH], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
    this.#child.on('message', (reply: HelperReply) => this.#onReply(reply));
    this.#child.once('exit', () => this.#lost());
    this.#child.once('disconnect', () => this.#lost());
    this.#child.on('error', () => this.#lost());
    this.#updateRef();
  }

  get gone(): boolean {
    return this.#gone;
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  spawn(request: LauncherFork): Promise<ForkedLauncher> {
    if (this.#gone) return Promise.reject(new SpawnHelperLost('the spawn helper is gone'));
    const id = this.#nextId++;
    return new Promise<ForkedLauncher>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject });
      this.#updateRef();
      this.#child.send({ ...request, id } satisfies HelperRequest, (err) => {
        if (err)
          this.#settle(id)?.reject(new SpawnHelperLost(`the spawn helper did not take the request: ${err.message}`));
      });
    });
  }

  #settle(id: number): Pending | undefined {
    const pending = this.#pending.get(id);
    this.#pending.delete(id);
    this.#updateRef();
    return pending;
  }

  #onReply(reply: HelperReply): void {
    if (reply.type === 'exit') {
      const running = this.#running.get(reply.pid);
      this.#running.delete(reply.pid);
      this.#updateRef();
      running?.resolve({ code: reply.code, signal: reply.signal });
      return;
    }
    const pending = this.#settle(reply.id);
    if (!pending) return;
    if (reply.type === 'failed') {
      pending.reject(new Error(reply.error));
      return;
    }
    // Registered before the caller hears of the pid: the exit, sent after this reply, finds it.
    const exited = new Promise<LauncherEnd>((resolve) => {
      this.#running.set(reply.pid, { startTime: reply.startTime, resolve });
    });
    this.#updateRef();
    pending.resolve({ pid: reply.pid, startTime: reply.startTime, exited });
  }

  #lost(): void {
    if (this.#gone) return;
    this.#gone = true;
    for (const [id, pending] of this.#pending) {
      this.#pending.delete(id);
      pending.reject(new SpawnHelperLost('the spawn helper exited during a spawn'));
    }
    // Their exits will not come over the channel any more: watch them as adopted runs are watched.
    for (const [pid, running] of this.#running) {
      this.#running.delete(pid);
      if (running.startTime === null) running.resolve(null);
      else void whenGone(pid, running.startTime, GONE_POLL_MS).then(() => running.resolve(null));
    }
    this.#updateRef();
  }

  /** The helper keeps this process alive only while a launcher of ours is starting or running. */
  #updateRef(): void {
    const busy = !this.#gone && (this.#pending.size > 0 || this.#running.size > 0);
    const channel = this.#child.channel as { ref?: () => void; unref?: () => void } | null | undefined;
    if (busy) {
      this.#child.ref();
      channel?.ref?.();
    } else {
      this.#child.unref();
      channel?.unref?.();
    }
  }
}

let current: SpawnHelper | null = null;

/** The process's spawn helper, started on first use and again after one went away. */
export function spawnHelper(): SpawnHelper {
  if (!current || current.gone) current = new SpawnHelper();
  return current;
}

/** Starts the helper ahead of the first spawn (a worker does this at start-up). */
export function prestartSpawnHelper(): void {
  spawnHelper();
}

/** The running helper's pid, if there is one (benchmarks count its CPU and its children's). */
export function spawnHelperPid(): number | null {
  return current && !current.gone ? (current.pid ?? null) : null;
}
