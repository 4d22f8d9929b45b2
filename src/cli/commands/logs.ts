import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../../errors.ts';
import { intFlag, out, projectIdArg } from '../options.ts';

const TAIL_BYTES = 64 * 1024;

export function register(program: Command): void {
  program
    .command('logs')
    .description("Print (or follow) an agent's output: a feature's latest agent run, or a given run")
    .argument(
      '[feature]',
      'feature id (default: list the latest agent runs of the project)',
      intFlag('feature id', 1, 2_147_483_647),
    )
    .option('--project <id>', 'project id (default: the project of the current directory)', projectIdArg('--project'))
    .option('--run <id>', 'an agent run id, e.g. autocoder/todo-app/coding/12/2')
    .option('-f, --follow', 'keep printing new output until the agent run ends', false)
    .option('--json', 'without a feature: the latest agent runs as JSON', false)
    .addHelpText(
      'after',
      `
Output is escaped: control characters and escape sequences are shown, never interpreted.

Examples:
  autocoder logs --project todo-app             # the latest agent runs and their log files
  autocoder logs 12 --project todo-app -f       # follow feature #12's current agent
  autocoder logs --run autocoder/todo-app/coding/12/2`,
    )
    .action(
      async (feature: number | undefined, opts: { project?: string; run?: string; follow: boolean; json: boolean }) => {
        const [{ withRuntime }, { resolveProjectId }, { listAgentRuns }, { escapeForTerminal }] = await Promise.all([
          import('../runtime.ts'),
          import('../project-of-cwd.ts'),
          import('../../db/agent-runs.ts'),
          import('../../features/terminal.ts'),
        ]);
        await withRuntime({}, async (rt) => {
          const { db } = rt.database;
          let runId = opts.run;
          if (!runId) {
            const projectId = await resolveProjectId(db, opts.project);
            const runs = await listAgentRuns(db, {
              projectId,
              ...(feature === undefined ? {} : { featureId: feature }),
              limit: feature === undefined ? 20 : 1,
            });
            if (feature === undefined && opts.json) {
              out(
                JSON.stringify(
                  runs.map((r) => ({
                    id: r.id,
                    kind: r.kind,
                    featureId: r.feature_id,
                    outcome: r.outcome,
                    startedAt: r.started_at,
                    endedAt: r.ended_at,
                    logPath: r.log_path,
                  })),
                ),
              );
              return;
            }
            if (feature === undefined) {
              for (const r of runs) out(`${r.id}  ${r.outcome ?? 'running'}  ${r.log_path ?? '(no log)'}`);
              if (runs.length === 0) out(`project ${projectId} has no agent runs yet`);
              return;
            }
            if (!runs[0])
              throw new UserError(`feature #${feature} of ${projectId} has no agent runs yet`, {
                hint: `see \`autocoder features show ${feature} --project ${projectId}\``,
              });
            runId = runs[0].id;
          }
          const row = await db
            .selectFrom('agent_runs')
            .select(['log_path', 'ended_at'])
            .where('id', '=', runId)
            .executeTakeFirst();
          if (!row)
            throw new UserError(`no agent run ${JSON.stringify(runId)}`, {
              hint: 'list runs with `autocoder logs --project <id>`',
            });
          if (!row.log_path || !existsSync(row.log_path))
            throw new UserError(
              `agent run ${runId} has no log file on this host (${row.log_path ?? 'none recorded'})`,
              { hint: 'run `autocoder logs` on the host whose worker ran it' },
            );
          const print = (text: string) => {
            for (const line of text.split('\n')) out(escapeForTerminal(line));
          };
          let offset = Math.max(0, statSync(row.log_path).size - TAIL_BYTES);
          offset = readFrom(row.log_path, offset, print, true);
          if (!opts.follow) return;
          for (;;) {
            await new Promise((r) => setTimeout(r, 300));
            offset = readFrom(row.log_path, offset, print, false);
            const ended = await db
              .selectFrom('agent_runs')
              .select('ended_at')
              .where('id', '=', runId)
              .executeTakeFirst();
            if (ended?.ended_at) {
              readFrom(row.log_path, offset, print, false);
              out(`-- agent run ${runId} ended`);
              return;
            }
          }
        });
      },
    );
}

/** Prints whole lines from `offset` on; returns the offset after the last printed line. */
function readFrom(path: string, offset: number, print: (text: string) => void, skipPartialFirst: boolean): number {
  const size = statSync(path).size;
  if (size <= offset) return offset;
  const fd = openSync(path, 'r');
  try {
    const buffer = Buffer.alloc(size - offset);
    readSync(fd, buffer, 0, buffer.length, offset);
    let text = buffer.toString('utf8');
    let consumed = 0;
    if (skipPartialFirst && offset > 0) {
      const first = text.indexOf('\n') + 1;
      consumed += Buffer.byteLength(text.slice(0, first));
      text = text.slice(first);
    }
    const end = text.lastIndexOf('\n');
    if (end < 0) return offset + consumed;
    print(text.slice(0, end));
    return offset + consumed + Buffer.byteLength(text.slice(0, end + 1));
  } finally {
    closeSync(fd);
  }
}
