/**
 * What a run may start: its free slots, and which handoffs fill them. A coding agent that ends
 * claims the next ready feature for its run and sends the claim with its report
 * (AgentSpec.claimNext), so the run starts it without a scheduling pass; which of those claims the
 * run starts and which it gives back is decided here, in order of arrival.
 */
import type { Claim } from '../activities/types.ts';
import type { RunningAgent } from './messages.ts';
import { attemptOf } from './run-ids.ts';

export type SlotSettings = { concurrency: number; maxAgents: number; testingRatio: number; yolo: boolean };

/** Coding slots come first; testers get what is left under the total cap (maxAgents). */
export function freeSlots(
  running: readonly RunningAgent[],
  settings: SlotSettings,
): { coding: number; codingSlots: number; testingSlots: number } {
  const coding = running.filter((a) => a.kind === 'coding').length;
  const testing = running.filter((a) => a.kind === 'testing').length;
  const totalFree = Math.max(0, settings.maxAgents - running.length);
  const codingSlots = Math.min(Math.max(0, settings.concurrency - coding), totalFree);
  const wantsTesting = !settings.yolo && settings.testingRatio > 0;
  const testingSlots = wantsTesting
    ? Math.min(Math.max(0, settings.testingRatio - testing), totalFree - codingSlots)
    : 0;
  return { coding, codingSlots, testingSlots };
}

export type HandoffGate = {
  /** Not stopping, draining or paused. */
  open: boolean;
  /** Features an operator stopped. */
  held: ReadonlySet<number>;
  concurrency: number;
  maxAgents: number;
};

export function sortHandoffs(
  handoffs: readonly Claim[],
  running: readonly RunningAgent[],
  gate: HandoffGate,
): { start: Claim[]; release: Claim[] } {
  const start: Claim[] = [];
  const release: Claim[] = [];
  let coding = running.filter((a) => a.kind === 'coding').length;
  let total = running.length;
  for (const claim of handoffs) {
    const same = running.find((a) => a.kind === 'coding' && a.featureId === claim.featureId);
    if (same) {
      // This very claim, already started by a pass that found it unstarted, or a later attempt:
      // nothing to start and nothing to give back.
      if (attemptOf(same.workflowId) >= claim.attempt) continue;
      // An earlier attempt: it has ended (recording its outcome freed the feature for this claim)
      // and its report is on the way. It holds no slot any more.
      coding--;
      total--;
    }
    const fits =
      gate.open &&
      !(claim.featureIds ?? [claim.featureId]).some((id) => gate.held.has(id)) &&
      coding < gate.concurrency &&
      total + start.length < gate.maxAgents;
    if (fits) coding++;
    (fits ? start : release).push(claim);
  }
  return { start, release };
}
