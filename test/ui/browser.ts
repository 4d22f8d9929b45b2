/** The browser the dashboard tests drive: Debian's chromium (installed by scripts/setup.sh). */
import { execFileSync } from 'node:child_process';

export function chromiumPath(): string {
  const fromEnv = process.env.AUTOCODER_CHROMIUM;
  if (fromEnv) return fromEnv;
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], {
      encoding: 'utf8',
    }).trim();
  } catch {
    throw new Error(
      'chromium is not installed: run `bash scripts/setup.sh` (apt-get install chromium) or set AUTOCODER_CHROMIUM',
    );
  }
}
