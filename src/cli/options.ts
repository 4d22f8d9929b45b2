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
