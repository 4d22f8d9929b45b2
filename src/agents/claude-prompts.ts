/**
 * Prompts of the claude adapter: one template per agent kind (src/agents/prompts/<kind>.md),
 * overridable per project by `<projectDir>/.autocoder/prompts/<kind>.md`. Templates use
 * `{{name}}` placeholders; values are substituted in one pass (a feature name holding `{{…}}`
 * stays as it is), and an unknown placeholder is an error naming the file, not text the model reads.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentSpec } from '../activities/types.ts';
import { UserError, showValue } from '../errors.ts';

export const BUILT_IN_PROMPTS_DIR = fileURLToPath(new URL('./prompts/', import.meta.url));

/**
 * The template an agent gets: `<kind>.md`, or for a batch of several features (coding, testing)
 * `<kind>-batch.md`, which lists them all.
 */
export type PromptName = AgentSpec['kind'] | 'coding-batch' | 'testing-batch';

export function promptNameOf(spec: Pick<AgentSpec, 'kind' | 'featureIds'>): PromptName {
  const batch = (spec.featureIds?.length ?? 0) > 1;
  if (batch && spec.kind === 'coding') return 'coding-batch';
  if (batch && spec.kind === 'testing') return 'testing-batch';
  return spec.kind;
}

/** Where a project keeps its own prompts; `<name>.md` there wins over the built-in one. */
export const projectPromptPath = (projectDir: string, kind: PromptName): string =>
  join(projectDir, '.autocoder', 'prompts', `${kind}.md`);

export type PromptTemplate = { text: string; source: string };

export function loadPromptTemplate(kind: PromptName, projectDir: string): PromptTemplate {
  const own = projectPromptPath(projectDir, kind);
  try {
    return { text: readFileSync(own, 'utf8'), source: own };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new UserError(`cannot read the project's prompt ${own}: ${(error as Error).message}`, {
        hint: 'fix its permissions, or remove it to use the built-in prompt',
      });
    }
  }
  const builtIn = join(BUILT_IN_PROMPTS_DIR, `${kind}.md`);
  return { text: readFileSync(builtIn, 'utf8'), source: builtIn };
}

export type PromptVariables = {
  projectId: string;
  projectDir: string;
  featureId: string;
  featureName: string;
  /** Every feature of the agent, in order: "#4, #5, #7" (just "#4" for one). */
  featureIds: string;
  kind: string;
  attempt: string;
  runId: string;
  /** How to verify: end to end as a user would, or (yolo) tests and build only. */
  verifyHow: string;
  /** Empty on a first attempt; otherwise says what the agent finds. */
  attemptNote: string;
};

export const PROMPT_VARIABLES: readonly (keyof PromptVariables)[] = [
  'projectId',
  'projectDir',
  'featureId',
  'featureName',
  'featureIds',
  'kind',
  'attempt',
  'runId',
  'verifyHow',
  'attemptNote',
];

export function promptVariables(spec: AgentSpec, runId: string, resuming: boolean): PromptVariables {
  return {
    projectId: spec.projectId,
    projectDir: spec.projectDir,
    featureId: spec.featureId === null ? '' : String(spec.featureId),
    featureName: spec.featureName,
    featureIds: spec.featureId === null ? '' : (spec.featureIds ?? [spec.featureId]).map((id) => `#${id}`).join(', '),
    kind: spec.kind,
    attempt: String(spec.attempt),
    runId,
    verifyHow: spec.yolo
      ? "Use the project's tests, type checks and a build; skip browser testing (YOLO mode)."
      : "Run it as a user would: start the app and go through each step (in a browser if it has a user interface), and run the project's tests.",
    attemptNote:
      (spec.reviewNote
        ? `A reviewer rejected the previous attempt at this feature, saying: ${spec.reviewNote}\nAddress this first.\n`
        : '') +
      (spec.attempt <= 1
        ? ''
        : resuming
          ? `This is attempt ${spec.attempt}: you are continuing your earlier session on this feature, which did not finish it. Check what is in place before you go on.\n`
          : `This is attempt ${spec.attempt}: an earlier attempt did not finish this feature. See what is already there (git log, claude-progress.txt) before you start.\n`),
  };
}

/** Fills `{{name}}` placeholders; unknown names are a UserError naming the template file. */
export function renderPrompt(template: PromptTemplate, values: PromptVariables): string {
  const unknown = new Set<string>();
  const text = template.text.replace(/\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g, (whole, name: string) => {
    if ((PROMPT_VARIABLES as readonly string[]).includes(name)) return values[name as keyof PromptVariables];
    unknown.add(name);
    return whole;
  });
  if (unknown.size > 0) {
    throw new UserError(
      `prompt template ${template.source} uses unknown placeholder${unknown.size > 1 ? 's' : ''} ${[...unknown].map((n) => showValue(`{{${n}}}`)).join(', ')}`,
      {
        hint: `use only ${PROMPT_VARIABLES.map((n) => `{{${n}}}`).join(', ')}`,
      },
    );
  }
  if (text.trim() === '')
    throw new UserError(`prompt template ${template.source} is empty`, {
      hint: 'write the prompt, or remove the file to use the built-in one',
    });
  return text;
}
