/**
 * Preloaded into the workflow sandbox (src/workflow-bundle.ts): what this module imports is
 * evaluated once per worker thread and shared, frozen, by every workflow it runs, instead of
 * evaluated again for each workflow (zod took ~5 ms of every agentRun's first task).
 *
 * Workflow code takes zod's functions from here (types may come from 'zod'): a bare import could
 * resolve to another of zod's modules, which each workflow would then evaluate. Only the functions
 * used are named, so the bundle leaves out the rest of zod (its locales alone are 12k lines).
 * Shared modules must keep no state per workflow: zod's is its config and a WeakMap registry of
 * schema metadata (its parse-time memo is transient: a parse ends within one activation).
 */
import { array, boolean, enum as enumOf, looseObject, number, object, record, string, unknown } from 'zod';

export const zod = { array, boolean, enum: enumOf, looseObject, number, object, record, string, unknown };

// zod writes its defaults into a global config when it builds its first schema (the locale) and
// its first container (the memoizer); build both now, before the sandbox freezes its globals.
zod.object({ warmUp: zod.string() });
