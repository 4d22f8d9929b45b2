/**
 * Environment configuration: one zod schema keyed by the real variable names (so docker-compose and
 * docs can be checked against it), one loader that applies flag overrides, validates, and reports
 * every problem at once as a single UserError naming the variable (or flag), the value and the fix.
 */
import { existsSync, readFileSync } from 'node:fs';
import { homedir, hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { z } from 'zod';
import { UserError, showValue } from '../errors.ts';

const portText = (fallback: number) =>
  z
    .string()
    .regex(/^\d{1,5}$/, 'must be a TCP port number 1-65535')
    .transform(Number)
    .pipe(z.number().int().min(1, 'must be a TCP port number 1-65535').max(65535, 'must be a TCP port number 1-65535'))
    .default(fallback);

const databaseUrl = z.string().refine((text) => {
  try {
    const url = new URL(text);
    return (url.protocol === 'postgres:' || url.protocol === 'postgresql:') && url.hostname !== '';
  } catch {
    return false;
  }
}, 'must be a postgres:// URL such as postgres://user:password@host:5432/autocoder');

// host:port, with IPv6 hosts in brackets ([::1]:7233)
export const hostPort = z.string().refine((text) => {
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(text);
  return match !== null && Number(match[2]) >= 1 && Number(match[2]) <= 65535;
}, 'must be host:port with a port 1-65535, such as 127.0.0.1:7233');

/** The dashboard's token (`autocoder ui --token`): a secret, so no message ever shows its value. */
export const uiTokenSchema = z
  .string()
  .min(16, 'must be at least 16 characters')
  .max(512, 'must be at most 512 characters')
  .regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces');

/** A webhook URL (`run --notify-url`): a chat webhook's URL is its secret, so no message shows it. */
export const notifyUrlSchema = z.string().refine((text) => {
  try {
    const url = new URL(text);
    return (url.protocol === 'http:' || url.protocol === 'https:') && !/\s/.test(text);
  } catch {
    return false;
  }
}, 'must be an http(s) URL');

import { HOST_ID_PATTERN, HOST_ID_RULE } from '../workflows/run-ids.ts';

export { HOST_ID_PATTERN, HOST_ID_RULE };

/**
 * A Worker Deployment's name and a version's build id (`worker --deployment --build-id`,
 * docs/upgrades.md). Temporal shows them as `<name>:<build id>` and refuses a name with a dot.
 */
const deploymentNameSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/,
    'must be 1-100 letters, digits, dashes or underscores, starting with a letter or digit',
  );
const buildIdSchema = z
  .string()
  .regex(
    /^[A-Za-z0-9][A-Za-z0-9._+-]{0,99}$/,
    'must be 1-100 letters, digits, dots, dashes, underscores or +, starting with a letter or digit (a release tag such as v1.1.0)',
  );

/** The environment variables we read, with their defaults; the descriptions are the docs. */
export const envSchema = z.object({
  AUTOCODER_HOME: z
    .string()
    .min(1)
    .optional()
    .describe('State directory (default ~/.autocoder): stack data, logs, tools'),
  AUTOCODER_CONFIG: z
    .string()
    .min(1)
    .optional()
    .describe(
      'Config file (default $AUTOCODER_HOME/config.json): JSON with these names; flags > environment > file > defaults',
    ),
  AUTOCODER_TOOLS_DIR: z
    .string()
    .min(1)
    .optional()
    .describe('Where the Temporal CLI gets installed (default $AUTOCODER_HOME/tools)'),
  DATABASE_URL: databaseUrl.optional().describe('Postgres to use instead of the embedded one (postgres://...)'),
  TEMPORAL_ADDRESS: hostPort
    .optional()
    .describe('Temporal frontend to use instead of the local dev server (host:port)'),
  TEMPORAL_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/, 'must be a Temporal namespace name (letters, digits, . _ -)')
    .default('default')
    .describe('Temporal namespace'),
  TEMPORAL_CLI: z
    .string()
    .min(1)
    .optional()
    .describe('Path of the temporal CLI binary (default: PATH, then installed under tools)'),
  AUTOCODER_TEMPORAL_PORT: portText(7233).describe('Port of the local Temporal dev server (gRPC frontend)'),
  AUTOCODER_TEMPORAL_UI_PORT: portText(8233).describe('Port of the local Temporal web UI'),
  AUTOCODER_PG_PORT: portText(54329).describe('Port of the embedded Postgres'),
  AUTOCODER_TASK_QUEUE: z
    .string()
    .regex(/^\S{1,200}$/, 'must be a non-empty name without spaces')
    .default('autocoder')
    .describe('Temporal task queue of the autocoder worker'),
  AUTOCODER_HOST_ID: z
    .string()
    .regex(HOST_ID_PATTERN, HOST_ID_RULE)
    .optional()
    .describe(
      "This worker's host id (default the OS hostname): its agents are supervised on the queue <task queue>@<host id>; recorded on its agent runs, given to its agents, a label of its metrics",
    ),
  AUTOCODER_DEPLOYMENT: deploymentNameSchema
    .optional()
    .describe(
      'Worker Deployment of this worker (with AUTOCODER_BUILD_ID): its workflows are versioned, so a new release can start beside a running one (docs/upgrades.md)',
    ),
  AUTOCODER_BUILD_ID: buildIdSchema
    .optional()
    .describe("This worker's version in its Worker Deployment (with AUTOCODER_DEPLOYMENT), usually the release tag"),
  AUTOCODER_WORKFLOW_STACK_TRACES: z
    .enum(['0', '1'], 'must be 0 or 1')
    .default('0')
    .transform((text) => text === '1')
    .describe(
      "1: workflows keep stack traces (errors, the UI's Stack Trace tab) at ~10 ms of worker CPU per agent run; the worker then bundles at start",
    ),
  AUTOCODER_TZ: z
    .string()
    .refine(isTimeZone, 'must be an IANA time zone such as UTC or Europe/Lisbon')
    .default('UTC')
    .describe('Time zone in which a day begins, for daily budgets and `autocoder spend --by day`'),
  AUTOCODER_DAILY_BUDGET_USD: z
    .string()
    .regex(/^\d+(\.\d+)?$/, 'must be a positive number of USD such as 25 or 12.50')
    .transform(Number)
    .pipe(z.number().positive('must be a positive number of USD such as 25 or 12.50'))
    .optional()
    .describe("The whole installation's budget per day (USD): every project's dispatch pauses once it is spent"),
  AUTOCODER_UI_TOKEN: uiTokenSchema
    .optional()
    .describe('Token `autocoder ui` requires on every request (needed for any --host but loopback; --token wins)'),
  AUTOCODER_NOTIFY_URL: notifyUrlSchema
    .optional()
    .describe('Webhook that receives the events of runs (`run --notify-url` wins)'),
});

export type EnvVarName = keyof typeof envSchema.shape;
export const envVarNames = Object.keys(envSchema.shape) as EnvVarName[];

export type EnvConfig = {
  /** absolute state directory */
  home: string;
  /** absolute directory for installed tools (temporal CLI) */
  toolsDir: string;
  /** external Postgres; undefined → embedded Postgres under home */
  databaseUrl: string | undefined;
  /** external Temporal frontend; undefined → local dev server under home */
  temporalAddress: string | undefined;
  temporalNamespace: string;
  temporalCli: string | undefined;
  temporalPort: number;
  temporalUiPort: number;
  pgPort: number;
  taskQueue: string;
  /** this worker's host id (AUTOCODER_HOST_ID, default the OS hostname) */
  hostId: string;
  /** the Worker Deployment (AUTOCODER_DEPLOYMENT) and build id (AUTOCODER_BUILD_ID): both or neither */
  deploymentName: string | undefined;
  buildId: string | undefined;
  /** keep stack traces in workflow code (AUTOCODER_WORKFLOW_STACK_TRACES=1) */
  workflowStackTraces: boolean;
  /** the dashboard's token (AUTOCODER_UI_TOKEN), if set */
  uiToken: string | undefined;
  /** where days begin (AUTOCODER_TZ) */
  timeZone: string;
  /** the installation's daily budget in USD (AUTOCODER_DAILY_BUDGET_USD), if set */
  dailyBudgetUsd: number | undefined;
  /** the runs' webhook (AUTOCODER_NOTIFY_URL), if set */
  notifyUrl: string | undefined;
};

/**
 * Each config field: the variable it comes from, and the `autocoder up` flag that overrides it
 * where there is one (messages only name flags that exist).
 */
const fields: Record<keyof EnvConfig, { env: EnvVarName; flag?: string }> = {
  home: { env: 'AUTOCODER_HOME' },
  toolsDir: { env: 'AUTOCODER_TOOLS_DIR' },
  databaseUrl: { env: 'DATABASE_URL' },
  temporalAddress: { env: 'TEMPORAL_ADDRESS' },
  temporalNamespace: { env: 'TEMPORAL_NAMESPACE' },
  temporalCli: { env: 'TEMPORAL_CLI' },
  temporalPort: { env: 'AUTOCODER_TEMPORAL_PORT', flag: '--temporal-port' },
  temporalUiPort: { env: 'AUTOCODER_TEMPORAL_UI_PORT', flag: '--ui-port' },
  pgPort: { env: 'AUTOCODER_PG_PORT', flag: '--pg-port' },
  taskQueue: { env: 'AUTOCODER_TASK_QUEUE' },
  hostId: { env: 'AUTOCODER_HOST_ID' },
  deploymentName: { env: 'AUTOCODER_DEPLOYMENT', flag: '--deployment' },
  buildId: { env: 'AUTOCODER_BUILD_ID', flag: '--build-id' },
  workflowStackTraces: { env: 'AUTOCODER_WORKFLOW_STACK_TRACES' },
  uiToken: { env: 'AUTOCODER_UI_TOKEN' },
  timeZone: { env: 'AUTOCODER_TZ' },
  dailyBudgetUsd: { env: 'AUTOCODER_DAILY_BUDGET_USD' },
  notifyUrl: { env: 'AUTOCODER_NOTIFY_URL', flag: '--notify-url' },
};

/** Values from CLI flags (or a caller); they win over the environment. */
export type ConfigOverrides = Partial<Record<keyof EnvConfig, string | number | undefined>>;

/** The variable (and flag, if any) behind a config field, for messages such as "set AUTOCODER_PG_PORT or --pg-port". */
export function configSource(field: keyof EnvConfig): { env: EnvVarName; flag?: string } {
  return fields[field];
}

/**
 * The config file: JSON with the same names as the environment (`{ "AUTOCODER_PG_PORT": 54400 }`),
 * at $AUTOCODER_CONFIG or <state dir>/config.json. It sits below the environment and flags.
 * AUTOCODER_HOME cannot be set there (the file lives in it).
 */
export function readConfigFile(
  env: NodeJS.ProcessEnv,
  home: string,
): { path: string; values: Record<string, string>; problems: string[] } {
  const path = env.AUTOCODER_CONFIG ? expandHome(env.AUTOCODER_CONFIG) : join(home, 'config.json');
  const values: Record<string, string> = {};
  const problems: string[] = [];
  if (!existsSync(path)) {
    if (env.AUTOCODER_CONFIG) problems.push(`AUTOCODER_CONFIG names ${showValue(path)}, which does not exist`);
    return { path, values, problems };
  }
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    problems.push(`${path} is not valid JSON: ${(error as Error).message}`);
    return { path, values, problems };
  }
  if (typeof data !== 'object' || data === null || Array.isArray(data)) {
    problems.push(`${path} must hold a JSON object of settings, e.g. {"AUTOCODER_PG_PORT": 54400}`);
    return { path, values, problems };
  }
  for (const [key, value] of Object.entries(data)) {
    if (!(envVarNames as string[]).includes(key) || key === 'AUTOCODER_HOME' || key === 'AUTOCODER_CONFIG') {
      problems.push(
        `${path}: unknown setting ${showValue(key)} (known: ${envVarNames.filter((n) => n !== 'AUTOCODER_HOME' && n !== 'AUTOCODER_CONFIG').join(', ')})`,
      );
    } else if (typeof value === 'string' || typeof value === 'number') {
      values[key] = String(value);
    } else {
      problems.push(`${path}: ${key} must be a string or a number, got ${showValue(value)}`);
    }
  }
  return { path, values, problems };
}

export function loadEnvConfig(env: NodeJS.ProcessEnv = process.env, overrides: ConfigOverrides = {}): EnvConfig {
  const input: Record<string, string> = {};
  const fromFlag = new Set<string>();
  const fromFile = new Set<string>();
  const homeGuess = expandHome(String(overrides.home ?? (env.AUTOCODER_HOME || join(homedir(), '.autocoder'))));
  const file = readConfigFile(env, homeGuess);
  for (const [name, value] of Object.entries(file.values)) {
    input[name] = value;
    fromFile.add(name);
  }
  for (const name of envVarNames) {
    const value = env[name];
    // An empty variable (FOO= in a shell or compose file) means unset.
    if (value !== undefined && value !== '') {
      input[name] = value;
      fromFile.delete(name);
    }
  }
  for (const [field, value] of Object.entries(overrides)) {
    const source = fields[field as keyof EnvConfig];
    if (source === undefined || value === undefined || value === '') continue;
    input[source.env] = String(value);
    fromFlag.add(source.env);
    fromFile.delete(source.env);
  }

  const parsed = envSchema.safeParse(input);
  const problems: string[] = [...file.problems];
  const describe = (name: string) => {
    const flag = Object.values(fields).find((f) => f.env === name)?.flag;
    if (fromFlag.has(name)) return flag ?? name;
    if (fromFile.has(name)) return `${name} in ${file.path}`;
    return flag ? `${name} (or ${flag})` : name;
  };
  const shown = (name: string) => {
    const raw = input[name];
    if (name === 'AUTOCODER_UI_TOKEN' || name === 'AUTOCODER_NOTIFY_URL') return 'a value (not shown: it is a secret)';
    return showValue(name === 'DATABASE_URL' && raw !== undefined ? redactUrl(raw) : raw);
  };
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      const name = String(issue.path[0] ?? 'environment');
      problems.push(`${describe(name)} ${issue.message}, got ${shown(name)}`);
    }
    throw configError(problems);
  }
  if (problems.length > 0) throw configError(problems);

  const v = parsed.data;
  const home = expandHome(v.AUTOCODER_HOME ?? join(homedir(), '.autocoder'));
  const config: EnvConfig = {
    home,
    toolsDir: v.AUTOCODER_TOOLS_DIR === undefined ? join(home, 'tools') : expandHome(v.AUTOCODER_TOOLS_DIR),
    databaseUrl: v.DATABASE_URL,
    temporalAddress: v.TEMPORAL_ADDRESS,
    temporalNamespace: v.TEMPORAL_NAMESPACE,
    temporalCli: v.TEMPORAL_CLI === undefined ? undefined : expandHome(v.TEMPORAL_CLI),
    temporalPort: v.AUTOCODER_TEMPORAL_PORT,
    temporalUiPort: v.AUTOCODER_TEMPORAL_UI_PORT,
    pgPort: v.AUTOCODER_PG_PORT,
    taskQueue: v.AUTOCODER_TASK_QUEUE,
    hostId: v.AUTOCODER_HOST_ID ?? hostname(),
    deploymentName: v.AUTOCODER_DEPLOYMENT,
    buildId: v.AUTOCODER_BUILD_ID,
    workflowStackTraces: v.AUTOCODER_WORKFLOW_STACK_TRACES,
    uiToken: v.AUTOCODER_UI_TOKEN,
    timeZone: v.AUTOCODER_TZ,
    dailyBudgetUsd: v.AUTOCODER_DAILY_BUDGET_USD,
    notifyUrl: v.AUTOCODER_NOTIFY_URL,
  };

  // The local stack binds all three ports on 127.0.0.1, so they must differ.
  const ports = [
    ['AUTOCODER_TEMPORAL_PORT', config.temporalPort],
    ['AUTOCODER_TEMPORAL_UI_PORT', config.temporalUiPort],
    ['AUTOCODER_PG_PORT', config.pgPort],
  ] as const;
  for (let i = 0; i < ports.length; i++) {
    for (let j = i + 1; j < ports.length; j++) {
      const [a, pa] = ports[i]!;
      const [b, pb] = ports[j]!;
      if (pa === pb) problems.push(`${describe(a)} and ${describe(b)} are both ${pa}; give each a different port`);
    }
  }
  // The default, the OS hostname, must fit the pattern too (it names a task queue).
  if (v.AUTOCODER_HOST_ID === undefined && !HOST_ID_PATTERN.test(config.hostId))
    problems.push(
      `AUTOCODER_HOST_ID is unset and the hostname ${showValue(config.hostId)} cannot be a host id (it ${HOST_ID_RULE}); set AUTOCODER_HOST_ID`,
    );
  // A version is a deployment and a build id: one without the other is a mistake, not a default.
  if ((config.deploymentName === undefined) !== (config.buildId === undefined)) {
    const [given, missing] =
      config.deploymentName === undefined
        ? (['AUTOCODER_BUILD_ID', 'AUTOCODER_DEPLOYMENT'] as const)
        : (['AUTOCODER_DEPLOYMENT', 'AUTOCODER_BUILD_ID'] as const);
    problems.push(
      `${describe(given)} is ${shown(given)} but ${describe(missing)} is not set; a versioned worker needs both (or neither, for an unversioned one)`,
    );
  }
  if (problems.length > 0) throw configError(problems);
  return config;
}

/** The worker's Worker Deployment version, when both parts are configured. */
export const workerVersionOf = ({ deploymentName, buildId }: Pick<EnvConfig, 'deploymentName' | 'buildId'>) =>
  deploymentName !== undefined && buildId !== undefined ? { deploymentName, buildId } : undefined;

function configError(problems: string[]): UserError {
  if (problems.length === 1) {
    return new UserError(`invalid configuration: ${problems[0]}`, {
      hint: 'fix that value (flags override environment variables)',
    });
  }
  return new UserError(
    `invalid configuration (${problems.length} problems):\n${problems.map((p) => `  - ${p}`).join('\n')}`,
    {
      hint: 'fix those values (flags override environment variables)',
    },
  );
}

function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

function expandHome(path: string): string {
  if (path === '~') return homedir();
  if (path.startsWith('~/')) return join(homedir(), path.slice(2));
  return resolve(path);
}

/** A URL fit to print: the password (and any secret-looking query values) replaced by ***. */
export function redactUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    // Not a URL: hide anything between "://user:" and "@" in case it is a mistyped one.
    return text.replace(/(\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
  if (url.password) url.password = '***';
  for (const key of [...url.searchParams.keys()]) {
    if (/pass|secret|token|key/i.test(key)) url.searchParams.set(key, '***');
  }
  return url.toString();
}
