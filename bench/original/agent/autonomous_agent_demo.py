"""Zero-work stand-in for the original's autonomous_agent_demo.py (bench/original.ts).

The original's orchestrator spawns `python -u <root>/autonomous_agent_demo.py --agent-type coding
--feature-id N` (or `--feature-ids A,B,C` for a batch); bench/original/run.py points <root> here.
For each feature of its batch, in order, this does what the original's MCP tool
feature_mark_passing does (the same guarded UPDATE in a BEGIN IMMEDIATE transaction, as the
original's SQLAlchemy hooks open), then exits. Standard library only, so a start costs Python's
own start and no more. It appends one JSON line per run to $AUTOCODER_BENCH_ORIGINAL_LOG.
"""

import json
import os
import sqlite3
import sys
import time

started = time.time()
args = sys.argv[1:]


def flag(name: str) -> str | None:
    return args[args.index(name) + 1] if name in args else None


kind = flag("--agent-type") or "coding"
ids_text = flag("--feature-ids") or flag("--feature-id") or ""
ids = [int(part) for part in ids_text.split(",") if part]
passed: list[list[float]] = []
if kind == "coding":
    connection = sqlite3.connect(os.environ["AUTOCODER_BENCH_ORIGINAL_DB"], timeout=30, isolation_level=None)
    connection.execute("PRAGMA busy_timeout=30000")
    for feature_id in ids:
        connection.execute("BEGIN IMMEDIATE")
        connection.execute("UPDATE features SET passes = 1, in_progress = 0 WHERE id = ? AND passes = 0", (feature_id,))
        connection.execute("COMMIT")
        passed.append([feature_id, time.time()])
    connection.close()
with open(os.environ["AUTOCODER_BENCH_ORIGINAL_LOG"], "a", encoding="utf-8") as log:
    log.write(json.dumps({"kind": kind, "ids": ids, "started": started, "passed": passed, "ended": time.time()}) + "\n")
