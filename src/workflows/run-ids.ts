/**
 * Agent run IDs (`autocoder/<project>/<kind>/<feature|init>/<attempt>`), read on both sides: in
 * workflow code (no imports here, so the bundle takes it as it is) and in the feature store.
 */

/** The attempt number of an agent run ID; 0 when its last part is not a number (the initializer's). */
export function attemptOf(runId: string): number {
  const last = runId.slice(runId.lastIndexOf('/') + 1);
  return /^\d+$/.test(last) ? Number(last) : 0;
}
