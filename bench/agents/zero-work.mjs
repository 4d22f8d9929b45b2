#!/usr/bin/env node
// A zero-work agent for benchmarks (the `command` adapter runs it): it prints when it started,
// marks its feature passing in the feature store, and exits. Plain JavaScript and one pg
// connection, so its own cost is a process start and one UPDATE.
import pg from 'pg';

const startedAt = Date.now();
process.stdout.write(`bench-agent-start ${startedAt}\n`);
const { AUTOCODER_PROJECT_ID: project, AUTOCODER_FEATURE_ID: feature, AUTOCODER_AGENT_KIND: kind, DATABASE_URL: url } = process.env;
if (kind === 'coding') {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query('UPDATE features SET passes = true, updated_at = clock_timestamp() WHERE project_id = $1 AND id = $2', [project, Number(feature)]);
  await client.end();
}
process.stdout.write(`bench-agent-end ${Date.now()}\n`);
