/**
 * Stands in for a worker that is about to crash: spawns one agent with the supervisor, prints the
 * handle's ref (what the activity heartbeats) as one JSON line, then idles until it is killed.
 *   node worker-that-dies.ts <logPath> <argv...>
 */
import { spawnAgent } from '../../src/supervisor/index.ts';

const [logPath, ...argv] = process.argv.slice(2);
const handle = await spawnAgent({ argv, cwd: process.cwd(), logPath: logPath! });
process.stdout.write(`${JSON.stringify(handle.ref)}\n`);
setInterval(() => undefined, 60_000);
