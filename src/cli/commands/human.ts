/**
 * People in the loop: `autocoder inbox` lists the questions agents asked, across projects, and
 * `autocoder answer` answers one. A running run gets the answer through its answerFeature update
 * (validated there too); a run that has ended finds it stored when the project runs again.
 */
import type { Command } from 'commander';
import { UserError, showValue } from '../../errors.ts';
import { answerCommand, type AnswerInput } from '../../workflows/human-answer.ts';
import { intFlag, out, projectIdArg } from '../options.ts';

type AnswerFlags = { option?: number; field: string[] };

const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

export function register(program: Command): void {
  program
    .command('inbox')
    .description('Open questions agents asked a person, across projects, each with the command that answers it')
    .option(
      '--json',
      'print a JSON array of { project, featureId, requestId, question, options, fields, askedAt, answerCommand }',
      false,
    )
    .addHelpText(
      'after',
      `
Examples:
  autocoder inbox
  autocoder inbox --json | jq '.[0].answerCommand'`,
    )
    .action(async (flags: { json: boolean }) => inbox(flags.json));

  program
    .command('answer')
    .description("Answer a feature's open question; the feature becomes ready and its next agent gets the answer")
    .argument('<project>', 'project id', projectIdArg())
    .argument(
      '<feature>',
      'feature id',
      intFlag('feature', 1, 2_147_483_647, 'give the feature id `autocoder inbox` shows'),
    )
    .argument('[text]', 'the answer (1..10,000 characters)')
    .option('--option <n>', "pick the request's option N (1-based)", intFlag('--option', 1, 1000))
    .option('--field <name=value>', 'fill in a field of the request (repeatable)', collect, [])
    .addHelpText(
      'after',
      `
Exit code 2 when the feature has no open request or the answer does not fit it (nothing is stored).

Examples:
  autocoder answer todo-app 12 "Use Stripe, test mode"
  autocoder answer todo-app 12 --option 2
  autocoder answer todo-app 12 --field stripe_key=sk_test_123 --field mode=test`,
    )
    .action(async (project: string, featureId: number, text: string | undefined, flags: AnswerFlags) =>
      answer(project, { featureId, text, option: flags.option, fields: parseFields(flags.field) }),
    );
}

function parseFields(pairs: readonly string[]): Record<string, string> | undefined {
  if (pairs.length === 0) return undefined;
  const fields: Record<string, string> = {};
  for (const pair of pairs) {
    const at = pair.indexOf('=');
    if (at < 1)
      throw new UserError(`--field must be NAME=VALUE, got ${showValue(pair)}`, {
        hint: 'e.g. --field stripe_key=sk_test_123',
      });
    fields[pair.slice(0, at)] = pair.slice(at + 1);
  }
  return fields;
}

async function inbox(json: boolean): Promise<void> {
  const [{ connectForCli }, { openRequests }] = await Promise.all([
    import('../../db/connect-cli.ts'),
    import('../../db/human-requests.ts'),
  ]);
  const { db, close } = await connectForCli();
  try {
    const requests = (await openRequests(db)).map((r) => ({
      project: r.project,
      featureId: r.featureId,
      requestId: r.requestId,
      question: r.question,
      options: r.options,
      fields: r.fields,
      askedAt: r.askedAt,
      answerCommand: answerCommand(r.project, r),
    }));
    if (json) {
      out(JSON.stringify(requests, null, 2));
      return;
    }
    if (requests.length === 0) {
      out('no open questions');
      return;
    }
    for (const r of requests) {
      out(`${r.project} #${r.featureId} (request ${r.requestId}, asked ${r.askedAt})`);
      out(`  ${r.question.replaceAll('\n', '\n  ')}`);
      r.options.forEach((o, i) => out(`  ${i + 1}. ${o}`));
      for (const f of r.fields)
        out(
          `  field ${f.id}: ${f.label}${f.required ? '' : ' (optional)'}${f.choices.length ? ` [${f.choices.join('|')}]` : ''}`,
        );
      out(`  answer: ${r.answerCommand}`);
    }
  } finally {
    await close();
  }
}

async function answer(projectId: string, input: AnswerInput): Promise<void> {
  const [{ withRuntime }, { projectRunHandle }, human, { checkAnswer }, messages, temporal] = await Promise.all([
    import('../runtime.ts'),
    import('../../client.ts'),
    import('../../db/human-requests.ts'),
    import('../../workflows/human-answer.ts'),
    import('../../workflows/messages.ts'),
    import('@temporalio/client'),
  ]);
  await withRuntime({}, async (rt) => {
    const { db } = rt.database;
    // The store is the truth: check it first, so a bad answer is refused with nothing sent.
    const open = (await human.openRequests(db, { projectId, featureId: input.featureId }))[0] ?? null;
    const problem = checkAnswer(open, input);
    if (problem)
      throw new UserError(`${projectId}: ${problem}`, { hint: 'see the open questions with `autocoder inbox`' });

    const handle = projectRunHandle(rt.temporal.client, projectId);
    const running = await handle.describe().then(
      (d) => d.status.name === 'RUNNING',
      (err: unknown) => {
        if (err instanceof temporal.WorkflowNotFoundError) return false;
        throw err;
      },
    );
    if (running) {
      try {
        // An update needs a worker: without one in time, store it here and wake the run instead.
        const result = await rt.temporal.client.connection.withDeadline(Date.now() + 15_000, () =>
          handle.executeUpdate(messages.answerFeatureUpdate, { args: [input] }),
        );
        out(`answered request #${result.requestId} of ${projectId} #${result.featureId}: ${result.answer}`);
        out(`the run ${handle.workflowId} goes on with feature #${result.featureId}`);
        return;
      } catch (err) {
        if (err instanceof temporal.WorkflowUpdateFailedError) {
          // The run had not read the request yet (its agent is still ending): the store decides.
          const still = (await human.openRequests(db, { projectId, featureId: input.featureId }))[0];
          if (!still) throw new UserError(`${projectId}: ${err.cause?.message ?? err.message}`);
        } else if (
          !/deadline|DEADLINE_EXCEEDED/i.test(`${(err as Error).message} ${String((err as Error).cause ?? '')}`)
        ) {
          throw err;
        }
      }
    }
    const stored = await human.answerFeatureRequest(db, { projectId, answer: input });
    out(`answered request #${stored.requestId} of ${projectId} #${stored.featureId}: ${stored.answer}`);
    if (running) {
      await handle.signal(messages.refreshSignal);
      out(`stored; the run ${handle.workflowId} was woken and picks it up`);
    } else out(`stored; ${projectId} has no run in progress: its next run (\`autocoder run\`) picks it up`);
  });
}
