/**
 * The spawn helper's process (see spawn-helper.ts): starts launchers for the worker that forked
 * it, over its IPC channel, and reports their exits. It imports next to nothing, so that its
 * fork() stays cheap; it leaves when the worker does (the channel closes).
 *
 * Requests and replies are spawn-helper.ts's HelperRequest and HelperReply.
 */
import { forkLauncher } from './fork-launcher.ts';
import type { HelperReply, HelperRequest } from './spawn-helper.ts';

const send = (reply: HelperReply): void => {
  if (process.connected) process.send?.(reply);
};

process.on('disconnect', () => process.exit(0));
// Ctrl-C in a terminal reaches the worker's whole process group: the worker decides what stops.
process.on('SIGINT', () => undefined);

process.on('message', ({ id, ...launcher }: HelperRequest) => {
  forkLauncher(launcher).then(
    ({ pid, startTime, exited }) => {
      send({ type: 'spawned', id, pid, startTime });
      // Always after 'spawned': the worker registers the pid when that reply arrives.
      void exited.then((end) => send({ type: 'exit', pid, code: end?.code ?? null, signal: end?.signal ?? null }));
    },
    (err: unknown) => send({ type: 'failed', id, error: (err as Error).message }),
  );
});
