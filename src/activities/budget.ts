/**
 * The spend check, made where claims are made: by the scheduling pass (schedule-steps.ts
 * `checkBudgets`, a local activity, so its answer is in the run's history) and by an ending
 * agent's claim of the next feature (supervise.ts `claimNext`). It also says what is left for
 * one agent, which the claude adapter passes as `--max-budget-usd`.
 */
import type { Kysely } from 'kysely';
import { dayBounds, featureSpend, featuresOverBudget, projectSpend, roundUsd } from '../db/spend.ts';
import type { Database } from '../db/tables.ts';
import type { AgentSpec, BudgetInput, BudgetPause, RunSpend } from './types.ts';

/** The worker's side of budgets: the installation's daily budget and the time zone of days. */
export type SpendConfig = { timeZone: string; installationDailyUsd?: number | undefined };
export const DEFAULT_SPEND_CONFIG: SpendConfig = { timeZone: 'UTC' };

export type BudgetCheck = {
  spend: RunSpend;
  /** A budget of the run, the project's day or the installation's day that is reached. */
  reached: BudgetPause | null;
  /** Features whose own budget is spent: held, while the others go on. */
  overBudget: Array<{ featureId: number; spentUsd: number; limitUsd: number }>;
  /** USD left before the nearest run, daily or installation budget (null: no such budget). */
  leftUsd: number | null;
};

export async function checkBudget(
  db: Kysely<Database>,
  config: SpendConfig,
  projectId: string,
  budget: BudgetInput,
): Promise<BudgetCheck> {
  const day = await dayBounds(db, config.timeZone);
  const installation = config.installationDailyUsd !== undefined;
  const spent = await projectSpend(db, {
    projectId,
    runStart: new Date(budget.runStartedAt),
    dayStart: day.start,
    installation,
  });
  const spend: RunSpend = { runUsd: roundUsd(spent.runUsd), todayUsd: roundUsd(spent.todayUsd), tokens: spent.tokens };
  const limits: Array<{ budget: BudgetPause['budget']; spentUsd: number; limitUsd: number | undefined }> = [
    { budget: 'run', spentUsd: spent.runUsd, limitUsd: budget.runUsd ?? undefined },
    { budget: 'daily', spentUsd: spent.todayUsd, limitUsd: budget.dailyUsd ?? undefined },
    { budget: 'installation', spentUsd: spent.installationTodayUsd ?? 0, limitUsd: config.installationDailyUsd },
  ];
  let reached: BudgetPause | null = null;
  let leftUsd: number | null = null;
  for (const l of limits) {
    if (l.limitUsd === undefined) continue;
    const left = l.limitUsd - l.spentUsd;
    leftUsd = leftUsd === null ? left : Math.min(leftUsd, left);
    if (left <= 0 && !reached) {
      reached = {
        reason: 'budget',
        budget: l.budget,
        spentUsd: roundUsd(l.spentUsd),
        limitUsd: l.limitUsd,
        // A day's budget frees itself at the next day boundary.
        ...(l.budget === 'daily' || l.budget === 'installation' ? { resumesAt: day.next.toISOString() } : {}),
      };
    }
  }
  const overBudget =
    budget.featureUsd == null
      ? []
      : (await featuresOverBudget(db, { projectId, limitUsd: budget.featureUsd })).map((f) => ({
          ...f,
          spentUsd: roundUsd(f.spentUsd),
          limitUsd: budget.featureUsd!,
        }));
  return { spend, reached, overBudget, leftUsd: leftUsd === null ? null : roundUsd(leftUsd) };
}

/** True when the run has any budget to check (else a claim skips the check's statements). */
export const hasBudget = (budget: BudgetInput | undefined, config: SpendConfig): budget is BudgetInput =>
  budget !== undefined &&
  (budget.runUsd != null ||
    budget.featureUsd != null ||
    budget.dailyUsd != null ||
    config.installationDailyUsd !== undefined);

/**
 * What is left of the run's budgets for one agent, passed to claude as --max-budget-usd;
 * undefined without a budget.
 */
export async function budgetLeft(
  db: Kysely<Database>,
  config: SpendConfig,
  spec: Pick<AgentSpec, 'projectId' | 'featureId' | 'budget'>,
): Promise<number | undefined> {
  if (!hasBudget(spec.budget, config)) return undefined;
  const check = await checkBudget(db, config, spec.projectId, spec.budget);
  let left = check.leftUsd ?? Infinity;
  if (spec.budget.featureUsd != null && spec.featureId !== null) {
    const spent = await featureSpend(db, { projectId: spec.projectId, featureId: spec.featureId });
    left = Math.min(left, spec.budget.featureUsd - spent.usd);
  }
  // The claim was checked; an agent started with a sliver left still gets a positive budget.
  return Number.isFinite(left) ? Math.max(0.01, Math.round(left * 100) / 100) : undefined;
}
