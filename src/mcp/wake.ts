/**
 * Waking the project's run when a feature passes: the `refresh` signal to workflow
 * `autocoder/<projectId>`, so features that depend on it start now instead of after the agent's
 * exit or the poll interval. Best effort: it never fails the write that triggered it.
 */
export type TemporalTarget = { address: string; namespace: string };

/** sent: delivered; no-run: the project has no running run; skipped: no Temporal configured. */
export type WakeResult = 'sent' | 'no-run' | 'skipped' | 'failed';
export type Wake = (projectId: string) => Promise<{ result: WakeResult; detail?: string }>;

/** A wake that takes longer is abandoned: the run also notices when the agent exits. */
export const WAKE_TIMEOUT_MS = 2000;

/** A Wake that signals through Temporal at `target`, or does nothing when target is null. */
export function temporalWake(target: TemporalTarget | null, timeoutMs = WAKE_TIMEOUT_MS): Wake {
  return async (projectId) => {
    if (target === null) return { result: 'skipped' };
    // Imported here: the client library costs a few hundred ms to load, and most MCP sessions
    // (and every read-only tool call) never need it.
    const { Connection, Client, WorkflowNotFoundError } = await import('@temporalio/client');
    let connection: Awaited<ReturnType<typeof Connection.connect>> | undefined;
    const deadline = AbortSignal.timeout(timeoutMs);
    try {
      connection = await Connection.connect({ address: target.address, connectTimeout: timeoutMs });
      const client = new Client({ connection, namespace: target.namespace });
      await connection.withAbortSignal(deadline, () =>
        client.workflow.getHandle(`autocoder/${projectId}`).signal('refresh'),
      );
      return { result: 'sent' };
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return { result: 'no-run' };
      return {
        result: 'failed',
        detail: `${target.address}: ${error instanceof Error ? error.message : String(error)}`,
      };
    } finally {
      await connection?.close().catch(() => undefined);
    }
  };
}
