/** Flag parsers shared by commands: each names the flag, the value and the range on error. */
import { UserError, showValue } from '../errors.ts';
import { PROJECT_ID_PATTERN } from '../workflows/messages.ts';

export function intFlag(flag: string, min: number, max: number, hint?: string) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!/^-?\d+$/.test(raw.trim()) || !Number.isInteger(value) || value < min || value > max) {
      throw new UserError(`${flag} must be an integer in ${min}..${max}, got ${showValue(raw)}`, {
        hint: hint ?? `use a value from ${min} to ${max}`,
      });
    }
    return value;
  };
}

export function projectIdArg(label = 'project id') {
  return (raw: string): string => {
    if (!PROJECT_ID_PATTERN.test(raw)) {
      throw new UserError(
        `${label} must be a slug (lowercase letters, digits and dashes, at most 63 characters), got ${showValue(raw)}`,
        {
          hint: 'for example --project todo-app',
        },
      );
    }
    return raw;
  };
}

export const out = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** A positive amount of USD (`--budget-usd 12.50`). */
export function usdFlag(flag: string) {
  return (raw: string): number => {
    const value = Number(raw);
    if (!/^\d+(\.\d+)?$/.test(raw.trim()) || !Number.isFinite(value) || value <= 0 || value > 1_000_000) {
      throw new UserError(`${flag} must be a positive amount of USD, got ${showValue(raw)}`, {
        hint: `e.g. ${flag} 25 or ${flag} 12.50`,
      });
    }
    return value;
  };
}
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/** A duration flag: `<n>s|m|h|d` (e.g. 4h, 30m), as milliseconds, at least one second. */
export function durationFlag(flag: string) {
  return (raw: string): number => {
    const m = /^(\d{1,6})([smhd])$/.exec(raw.trim());
    const ms = m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : 0;
    if (!m || ms < 1000) {
      throw new UserError(`${flag} must be a duration like 30s, 15m, 4h or 2d, got ${showValue(raw)}`, {
        hint: `e.g. ${flag} 4h`,
      });
    }
    return ms;
  };
}

/**
 * The run's notification settings: --notify-url, else AUTOCODER_NOTIFY_URL (environment or config
 * file), checked by the config schema; a bad one exits 2 without showing the value (a chat
 * webhook's URL is its secret).
 */
export async function notifySettings(
  flag: string | undefined,
  remindAfterMs: number | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ notifyUrl?: string; remindAfterMs?: number }> {
  const { loadEnvConfig } = await import('../config/env.ts');
  const url = loadEnvConfig(env, flag === undefined ? {} : { notifyUrl: flag }).notifyUrl;
  return { ...(url ? { notifyUrl: url } : {}), ...(remindAfterMs ? { remindAfterMs } : {}) };
}

/**
 * `--metrics [address]`: where the worker serves Prometheus metrics. Alone it means
 * 127.0.0.1:9464; a bare port binds loopback; a host other than loopback must be written out.
 */
export function metricsFlag(flag: string) {
  return (raw: string): string => {
    const text = raw.trim();
    const address = /^\d{1,5}$/.test(text) ? `127.0.0.1:${text}` : text;
    const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._-]+):(\d{1,5})$/.exec(address);
    if (!match || Number(match[2]) < 1 || Number(match[2]) > 65535) {
      throw new UserError(`${flag} must be host:port or a port (1-65535), got ${showValue(raw)}`, {
        hint: `e.g. ${flag} 127.0.0.1:9464 (loopback), or ${flag} 0.0.0.0:9464 for a scraper on another host`,
      });
    }
    return address;
  };
}

/** The address of `--metrics` as commander left it: true when given without a value. */
export function metricsAddressOf(value: string | boolean | undefined): string | undefined {
  if (value === undefined || value === false) return undefined;
  return value === true ? '127.0.0.1:9464' : value;
}
