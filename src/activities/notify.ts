/**
 * postNotification: one JSON POST to the run's --notify-url. A non-2xx answer, a refused
 * connection or no answer within the timeout is an error the workflow's retry policy retries; its
 * message never holds the URL (a chat webhook's URL is its secret).
 */
import type { NotificationInput } from '../workflows/notifications.ts';

export const NOTIFY_TIMEOUT_MS = 5000;

export function createNotifyActivities(options: { timeoutMs?: number } = {}) {
  const timeoutMs = options.timeoutMs ?? NOTIFY_TIMEOUT_MS;
  return {
    async postNotification({ url, body }: NotificationInput): Promise<void> {
      let response: Response;
      try {
        response = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'autocoder-temporal' },
          body: JSON.stringify(body),
          redirect: 'error',
          signal: AbortSignal.timeout(timeoutMs),
        });
      } catch (err) {
        const e = err as Error & { cause?: { code?: string } };
        if (e.name === 'TimeoutError') throw new Error(`the webhook did not answer within ${timeoutMs / 1000} s`);
        throw new Error(`the webhook could not be reached (${e.cause?.code ?? e.name})`);
      }
      await response.body?.cancel();
      if (!response.ok) throw new Error(`the webhook answered HTTP ${response.status}`);
    },
  };
}
