#!/usr/bin/env python3
"""Regenerate the golden batch vectors (test/fixtures/golden-batches) with AutoCoder's own code.

    python3 scripts/golden-batches.py [--reference DIR] [--out DIR]

DIR holds the original's sources, upstream HEAD 69d9313: either a checkout (parallel_orchestrator.py,
api/dependency_resolver.py) or the reference copies beside this repo
(../shared/reference/autocoder-head/*.py.txt, the default). No third-party module is needed: the
two methods, `ParallelOrchestrator.build_feature_batches` and `_get_test_batch`, are taken out of
the class with `ast` and run unchanged against a stand-in `self` (and, for the testing batch, a
stand-in database session that returns the case's passing features). Scores and the ready list come
from the original's dependency resolver (`compute_scheduling_scores`, `are_dependencies_satisfied`)
sorted as its `get_ready_features` sorts them.

One deliberate change, the issue's rule: where two chain candidates have equal scores the original
keeps whichever its `set()` of candidate ids yields first, an accident of CPython's hash layout. The
methods run with `set` bound to a set that iterates in ascending order, so the lowest id wins; every
other line is the original's.
"""
import argparse
import ast
import json
import random
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def read_source(ref: Path, names: list[str]) -> str:
    for name in names:
        if (ref / name).exists():
            return (ref / name).read_text()
    raise SystemExit(f"golden-batches: none of {names} in {ref}; pass --reference with the original's sources")


class AscendingSet(set):
    """A set that iterates in ascending order: the lowest-id tie rule (see the module docstring)."""

    def __iter__(self):
        return iter(sorted(set.__iter__(self)))


class _Log:
    def log(self, *args, **kwargs):
        pass


def load_original(ref: Path):
    resolver_ns: dict = {}
    exec(compile(read_source(ref, ["api/dependency_resolver.py", "api_dependency_resolver.py.txt"]), "resolver", "exec"), resolver_ns)
    tree = ast.parse(read_source(ref, ["parallel_orchestrator.py", "parallel_orchestrator.py.txt"]))
    cls = next(n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "ParallelOrchestrator")
    wanted = {"build_feature_batches", "_get_test_batch"}
    methods = [n for n in cls.body if isinstance(n, ast.FunctionDef) and n.name in wanted]
    if {m.name for m in methods} != wanted:
        raise SystemExit("golden-batches: the original's class lacks build_feature_batches or _get_test_batch")
    module = ast.Module(body=methods, type_ignores=[])
    ns: dict = {"debug_log": _Log(), "set": AscendingSet, "Feature": FeatureColumns, "func": None}
    exec(compile(ast.fix_missing_locations(module), "parallel_orchestrator", "exec"), ns)
    return resolver_ns, ns["build_feature_batches"], ns["_get_test_batch"]


class FeatureColumns:
    passes = object()
    in_progress = object()


class StoredFeature:
    def __init__(self, fid: int, deps):
        self.id = fid
        self.dependencies = deps

    def get_dependencies_safe(self):
        return [d for d in (self.dependencies or []) if isinstance(d, int)]


class Session:
    """Answers `query(Feature).filter(passes).filter(not in_progress).all()` with the case's features."""

    def __init__(self, rows):
        self.rows = rows

    def expire_all(self):
        pass

    def query(self, _model):
        return self

    def filter(self, _cond):
        return self

    def all(self):
        return list(self.rows)

    def close(self):
        pass


class Orchestrator:
    def __init__(self, batch_size=1, rows=(), testing=()):
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._recently_tested = set()
        self.running_testing_agents = {i: (fid, None) for i, fid in enumerate(testing)}
        self._rows = rows

    def get_session(self):
        return Session(self._rows)


def random_features(rng: random.Random, n: int, progress: bool = True) -> list[dict]:
    categories = ["auth", "ui", "api", "data"][: rng.randint(1, 4)]
    feats = []
    for fid in range(1, n + 1):
        roll = rng.random()
        if fid == 1 or roll < 0.25:
            deps = None if rng.random() < 0.3 else []
        else:
            deps = sorted(rng.sample(range(1, fid), min(fid - 1, rng.randint(1, 3))))
            if rng.random() < 0.05:
                deps.append(n + rng.randint(1, 5))  # a dependency on a missing feature
        feats.append({"id": fid, "priority": rng.choice([1, 2, 3, 5, 999]), "category": rng.choice(categories),
                      "name": f"Feature {fid}", "description": "", "steps": [], "dependencies": deps,
                      "passes": False, "in_progress": False})
    for f in feats if progress else []:  # some finished work, some running: passing only where every dependency passes
        deps = f["dependencies"] or []
        if rng.random() < 0.3 and all(feats[d - 1]["passes"] for d in deps if d <= n) and all(d <= n for d in deps):
            f["passes"] = True
        elif rng.random() < 0.1:
            f["in_progress"] = True
    return feats


def tie_case() -> list[dict]:
    """Two equal-scoring dependents of #1 whose ids CPython's set yields high-first (9 before 3)."""
    def feat(fid, deps, cat="core"):
        return {"id": fid, "priority": 5, "category": cat, "name": f"Feature {fid}", "description": "",
                "steps": [], "dependencies": deps, "passes": False, "in_progress": False}
    return [feat(1, []), feat(3, [1]), feat(9, [1]), feat(4, [], "other"), feat(2, [], "core")]


def coding_case(resolver, build, feats, batch_size):
    scores = resolver["compute_scheduling_scores"](feats)
    passing = {f["id"] for f in feats if f["passes"]}
    ready = [f for f in feats if not f["passes"] and not f["in_progress"]
             and resolver["are_dependencies_satisfied"](f, feats, passing)]
    ready.sort(key=lambda f: (-scores.get(f["id"], 0), f["priority"], f["id"]))
    batches = build(Orchestrator(batch_size), ready, feats, scores)
    return {"kind": "coding", "batchSize": batch_size, "features": feats,
            "expected": {"ready": [f["id"] for f in ready], "batches": [[f["id"] for f in b] for b in batches]}}


def testing_case(get_batch, rng: random.Random, feats, batch_size, rounds):
    rows = [StoredFeature(f["id"], f["dependencies"]) for f in feats if f["passes"] and not f["in_progress"]]
    orch = Orchestrator(rows=rows)
    steps = []
    for _ in range(rounds):
        ids = [r.id for r in rows]
        testing = sorted(rng.sample(ids, min(len(ids), rng.randint(0, 2))))
        orch.running_testing_agents = {i: (fid, None) for i, fid in enumerate(testing)}
        before = sorted(orch._recently_tested)
        selected = get_batch(orch, batch_size)
        steps.append({"currentlyTesting": testing, "recentlyTestedBefore": before, "selected": selected,
                      "recentlyTestedAfter": sorted(orch._recently_tested)})
    return {"kind": "testing", "batchSize": batch_size, "features": feats, "steps": steps}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reference", type=Path, default=ROOT.parent / "shared" / "reference" / "autocoder-head")
    parser.add_argument("--out", type=Path, default=ROOT / "test" / "fixtures" / "golden-batches")
    args = parser.parse_args()
    resolver, build, get_batch = load_original(args.reference)
    rng = random.Random(69_0913)
    cases = [coding_case(resolver, build, tie_case(), size) for size in (2, 3)]
    chain = [{"id": i, "priority": 999, "category": "core", "name": f"Feature {i}", "description": "", "steps": [],
              "dependencies": [i - 1] if i > 1 else [], "passes": i <= 4, "in_progress": False} for i in range(1, 21)]
    cases.append(coding_case(resolver, build, chain, 3))
    for i in range(18):
        feats = random_features(rng, rng.randint(4, 40), progress=i % 2 == 0)
        cases.append(coding_case(resolver, build, feats, [1, 2, 3][i % 3]))
    for i in range(6):
        feats = random_features(rng, rng.randint(6, 30))
        for f in feats:  # testing needs passing features: pass a good share outright
            if rng.random() < 0.6 and not f["in_progress"]:
                f["passes"] = True
        cases.append(testing_case(get_batch, rng, feats, rng.randint(1, 5), 6))
    args.out.mkdir(parents=True, exist_ok=True)
    for old in args.out.glob("case-*.json"):
        old.unlink()
    for i, case in enumerate(cases):
        (args.out / f"case-{i:03d}.json").write_text(json.dumps(case, indent=1) + "\n")
    print(f"golden-batches: wrote {len(cases)} cases to {args.out}")


if __name__ == "__main__":
    main()
