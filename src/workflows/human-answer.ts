/**
 * Questions to a person and their answers, as pure functions: what a stored request offers
 * (options to choose from, fields to fill in), and whether an answer fits it. The answerFeature
 * update's validator, the `answer` command and the activity that stores an answer all call
 * `checkAnswer`, so a bad answer gets the same one line wherever it is caught. No imports but
 * types: workflow code runs this.
 */

/** One input of the original's `fields` form (feature_request_human_input). */
export type RequestField = { id: string; label: string; required: boolean; choices: string[] };

/** What a request offers the person: choices (`--option N`), fields (`--field NAME=VALUE`), or free text. */
export type RequestForm = { options: string[]; fields: RequestField[] };

/** An open request as the run and the CLI see it. */
export type OpenRequest = {
  requestId: number;
  featureId: number;
  question: string;
  askedAt: string;
} & RequestForm;

/** What a person sends: exactly one of text, option (1-based) or fields. */
export type AnswerInput = {
  featureId: number;
  text?: string | undefined;
  option?: number | undefined;
  fields?: Record<string, string> | undefined;
};

export const ANSWER_TEXT_MAX = 10_000;

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The form of a stored request (human_requests.options): strings are choices (`feature ask
 * --option`), objects with an id are fields (feature_request_human_input); for `ask_user`, the
 * first question's option labels are the choices.
 */
export function requestForm(kind: string, stored: readonly unknown[]): RequestForm {
  if (kind === 'ask') {
    const first = stored[0];
    const options = isRecord(first) && Array.isArray(first.options) ? first.options : [];
    return {
      options: options.flatMap((o) => (isRecord(o) && typeof o.label === 'string' ? [o.label] : [])),
      fields: [],
    };
  }
  const options = stored.filter((o): o is string => typeof o === 'string');
  const fields = stored.flatMap((f): RequestField[] => {
    if (!isRecord(f) || typeof f.id !== 'string') return [];
    const choices = Array.isArray(f.options)
      ? f.options.flatMap((c) => (isRecord(c) && typeof c.value === 'string' ? [c.value] : []))
      : [];
    const label = typeof f.label === 'string' ? f.label : f.id;
    return [{ id: f.id, label, required: f.required !== false, choices }];
  });
  return { options, fields };
}

/**
 * Why `answer` does not fit `request` (one line naming the value and the fix), or null when it
 * does. `request` null: the feature has no open request.
 */
export function checkAnswer(
  request: Pick<OpenRequest, 'options' | 'fields'> | null,
  answer: AnswerInput,
): string | null {
  const { featureId } = answer;
  if (!Number.isInteger(featureId) || featureId < 1)
    return `feature must be a positive integer, got ${JSON.stringify(featureId)}`;
  if (!request)
    return `feature #${featureId} has no open request: nothing to answer (see \`autocoder inbox\` for the open ones)`;
  const given = [answer.text !== undefined, answer.option !== undefined, answer.fields !== undefined].filter(Boolean);
  if (given.length !== 1) return 'give exactly one of an answer text, --option N or --field NAME=VALUE';
  if (answer.text !== undefined) {
    if (typeof answer.text !== 'string' || answer.text.trim().length === 0 || answer.text.length > ANSWER_TEXT_MAX)
      return `the answer text must be 1..${ANSWER_TEXT_MAX} characters, got ${typeof answer.text === 'string' ? answer.text.length : typeof answer.text}`;
    if (request.fields.some((f) => f.required))
      return `feature #${featureId}'s request has fields: answer with --field ${request.fields.map((f) => `${f.id}=…`).join(' --field ')}`;
    return null;
  }
  if (answer.option !== undefined) {
    const n = request.options.length;
    if (n === 0) return `feature #${featureId}'s request offers no options: answer with a text`;
    if (!Number.isInteger(answer.option) || answer.option < 1 || answer.option > n)
      return `--option must be in 1..${n}, got ${JSON.stringify(answer.option)} (the options: ${request.options.map((o, i) => `${i + 1}=${o}`).join(', ')})`;
    return null;
  }
  const fields = answer.fields;
  if (!isRecord(fields)) return '--field must be NAME=VALUE';
  const known = new Map(request.fields.map((f) => [f.id, f]));
  for (const [name, value] of Object.entries(fields)) {
    const field = known.get(name);
    if (!field)
      return `--field ${name} is not a field of feature #${featureId}'s request (its fields: ${[...known.keys()].join(', ') || 'none'})`;
    if (typeof value !== 'string' || value.length > ANSWER_TEXT_MAX)
      return `--field ${name} must be a text of at most ${ANSWER_TEXT_MAX} characters`;
    if (field.choices.length > 0 && !field.choices.includes(value))
      return `--field ${name} must be one of ${field.choices.join(', ')}, got ${JSON.stringify(value)}`;
  }
  const missing = request.fields.filter((f) => f.required && !(fields[f.id] ?? '').trim());
  if (missing.length > 0) return `missing required field(s): ${missing.map((f) => `--field ${f.id}=…`).join(' ')}`;
  return null;
}

/** The answer as stored: the text, the chosen option's label, or the fields' record. */
export function storedAnswer(
  request: Pick<OpenRequest, 'options'>,
  answer: AnswerInput,
): string | Record<string, string> {
  if (answer.text !== undefined) return answer.text;
  if (answer.option !== undefined) return request.options[answer.option - 1] ?? '';
  return answer.fields ?? {};
}

/** A stored answer as one text (AUTOCODER_HUMAN_ANSWER, the prompt): a string as is, else JSON. */
export function answerText(stored: unknown): string {
  return typeof stored === 'string' ? stored : JSON.stringify(stored);
}

/** The command that answers a request, as the inbox and notifications show it. */
export function answerCommand(project: string, request: Pick<OpenRequest, 'featureId' | 'options' | 'fields'>): string {
  const base = `autocoder answer ${project} ${request.featureId}`;
  if (request.fields.length > 0) return `${base} ${request.fields.map((f) => `--field ${f.id}=…`).join(' ')}`;
  if (request.options.length > 0) return `${base} --option 1`;
  return `${base} "…"`;
}
