"""Run the original's parallel_orchestrator.py for real, with zero-work agents (bench/original.ts).

usage: python run.py <original-dir> <debug-log> -- <parallel_orchestrator.py arguments>
The orchestrator is the original's module, unchanged; only the directory it takes its agent
script from (AUTOFORGE_ROOT) points at bench/original/agent, and its debug log goes to
<debug-log> instead of the original's checkout.
"""

import sys
from pathlib import Path

original_dir, debug_log_file = sys.argv[1], sys.argv[2]
sys.path.insert(0, original_dir)
import parallel_orchestrator  # noqa: E402

parallel_orchestrator.AUTOFORGE_ROOT = Path(__file__).parent.resolve() / "agent"
parallel_orchestrator.debug_log.log_file = Path(debug_log_file)
sys.argv = ["parallel_orchestrator.py", *sys.argv[sys.argv.index("--") + 1 :]]
parallel_orchestrator.main()
