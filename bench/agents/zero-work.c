/*
 * A zero-work agent for benchmarks, in C on libpq: it marks its feature passing in the feature
 * store and exits, as zero-work.cjs does, so that the benchmark measures the orchestrator and not
 * the agent. A Node process costs ~65 ms of CPU to start and connect on these machines, more than
 * the orchestrator's own share per feature; this one ~16 ms, most of it libpq's shared libraries
 * and the SCRAM exchange. bench/agents/build.ts compiles it (cc, libpq headers) when the
 * benchmark starts; without a compiler or libpq the benchmark falls back to zero-work.cjs.
 *
 * One parameterised UPDATE: the feature's ids travel as parameters, never in the SQL text.
 */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(PGconn *conn, const char *what) {
  fprintf(stderr, "zero-work agent: %s: %s", what, conn ? PQerrorMessage(conn) : "missing\n");
  if (conn) PQfinish(conn);
  return 1;
}

int main(void) {
  const char *kind = getenv("AUTOCODER_AGENT_KIND");
  /* Testing agents have nothing to re-test: a zero-work one passes by exiting. */
  if (kind == NULL || strcmp(kind, "coding") != 0) return 0;
  const char *project = getenv("AUTOCODER_PROJECT_ID");
  const char *feature = getenv("AUTOCODER_FEATURE_ID");
  const char *url = getenv("DATABASE_URL");
  if (project == NULL || feature == NULL) return fail(NULL, "AUTOCODER_PROJECT_ID or AUTOCODER_FEATURE_ID");
  if (url == NULL) return fail(NULL, "DATABASE_URL");

  /* expand_dbname: the first value is a connection URI; the process's PG* variables fill the rest. */
  const char *const keywords[] = { "dbname", "application_name", NULL };
  const char *const values[] = { url, "autocoder-zero-work-agent", NULL };
  PGconn *conn = PQconnectdbParams(keywords, values, 1);
  if (PQstatus(conn) != CONNECTION_OK) return fail(conn, "connect");

  const char *const params[] = { project, feature };
  PGresult *result = PQexecParams(conn,
    "UPDATE features SET passes = true, updated_at = clock_timestamp() WHERE project_id = $1 AND id = $2::integer",
    2, NULL, params, NULL, NULL, 0);
  if (PQresultStatus(result) != PGRES_COMMAND_OK) {
    PQclear(result);
    return fail(conn, "update");
  }
  PQclear(result);
  PQfinish(conn);
  return 0;
}
