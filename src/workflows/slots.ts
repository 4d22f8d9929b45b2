/**
 * What a run may start: its free slots, and which handoffs fill them. A coding agent that ends
 * claims the next ready feature for its run and sends the claim with its report
 * (AgentSpec.claimNext), so the run starts it without a scheduling pass; which of those claims the
 * run starts and which it gives back is decided here, in order of arrival.
 */
import type { Claim } from '../activities/types.ts';
import type { RunningAgent } from './messages.ts';

export type SlotSettings = { concurrency: number; maxAgents: number; testingRatio: number; yolo: boolean };

/** Coding slots come first; testers get what is left under the total cap (maxAgents). */
export function freeSlots(running: readonly RunningAgent[], settings: SlotSettings): { coding: number; codingSlots: number; testingSlots: number } {
  const coding = running.filter((a) => a.kind === 'coding').length;
  const testing = running.filter((a) => a.kind === 'testing').length;
  const totalFree = Math.max(0, settings.maxAgents - running.length);
  const codingSlots = Math.min(Math.max(0, settings.concurrency - coding), totalFree);
  const wantsTesting = !settings.yolo && settings.testingRatio > 0;
  const testingSlots = wantsTesting ? Math.min(Math.max(0, settings.testingRatio - testing), totalFree - codingSlots) : 0;
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

export function sortHandoffs(handoffs: readonly Claim[], running: readonly RunningAgent[], gate: HandoffGate): { start: Claim[]; release: Claim[] } {
  const start: Claim[] = [];
  const release: Claim[] = [];
  let coding = running.filter((a) => a.kind === 'coding').length;
  for (const claim of handoffs) {
    // A pass that ran while this claim was on its way took it for stranded and claimed the
    // feature again: that claim is the live one, this one is gone.
    if (running.some((a) => a.kind === 'coding' && a.featureId === claim.featureId)) continue;
    const fits = gate.open && !gate.held.has(claim.featureId) && coding < gate.concurrency && running.length + start.length < gate.maxAgents;
    if (fits) coding++;
    (fits ? start : release).push(claim);
  }
  return { start, release };
}
