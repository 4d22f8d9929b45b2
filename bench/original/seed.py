"""Create the original's feature database for a bench scenario (bench/original.ts).

usage: python seed.py <original-dir> <project-dir> < features.json
Uses the original's own schema code (api.database.create_database), inserts the features as its
feature_create_bulk does, and prints the database's path.
"""

import json
import sys
from pathlib import Path

sys.path.insert(0, sys.argv[1])
from api.database import Feature, create_database  # noqa: E402
from autoforge_paths import get_features_db_path  # noqa: E402

project_dir = Path(sys.argv[2]).resolve()
project_dir.mkdir(parents=True, exist_ok=True)
engine, session_maker = create_database(project_dir)
session = session_maker()
for entry in json.load(sys.stdin):
    session.add(
        Feature(
            id=entry["id"],
            priority=entry.get("priority", 999),
            category=entry.get("category", ""),
            name=entry["name"],
            description=entry.get("description", ""),
            steps=entry.get("steps", []),
            passes=False,
            in_progress=False,
            dependencies=entry.get("dependencies") or None,
        )
    )
session.commit()
session.close()
engine.dispose()
print(get_features_db_path(project_dir))
