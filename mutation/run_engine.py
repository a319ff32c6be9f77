"""Run cosmic-ray over engine core modules, one session per module, and print their scores.

Usage (from the repository root, in a venv with `pip install -e '.[dev,mutation]'`):
    python mutation/run_engine.py fills lifecycle identity ...
Sessions are kept in mutation/sessions/<module>.sqlite (git-ignored); re-running a module
resumes its session, `--fresh` starts it over, `--recheck` runs only its survivors again (after
new tests). Survivors: `cr-report --show-diff --surviving-only mutation/sessions/<module>.sqlite`.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
TEMPLATE = HERE / "cosmic-ray.toml"
SESSIONS = HERE / "sessions"


def run_module(module: str, *, fresh: bool, recheck: bool) -> dict[str, int]:
    SESSIONS.mkdir(exist_ok=True)
    config = SESSIONS / f"{module}.toml"
    session = SESSIONS / f"{module}.sqlite"
    config.write_text(TEMPLATE.read_text().replace("MODULE", module))
    if fresh or not session.exists():
        session.unlink(missing_ok=True)
        subprocess.run(["cosmic-ray", "init", str(config), str(session)], check=True)
        subprocess.run(["cr-filter-operators", str(session), str(config)], check=True)
    elif recheck:
        # a work item without a result is pending again: exec below runs just those
        with sqlite3.connect(session) as db:
            db.execute("DELETE FROM work_results WHERE test_outcome = 'SURVIVED'")
    subprocess.run(["cosmic-ray", "exec", str(config), str(session)], check=True)
    return score(session)


def score(session: Path) -> dict[str, int]:
    """Counts of killed / survived / timeout / incompetent mutants (skipped ones left out)."""
    with sqlite3.connect(session) as db:
        rows = db.execute(
            "SELECT worker_outcome, test_outcome, COUNT(*) FROM work_results GROUP BY 1, 2"
        ).fetchall()
    counts = {"killed": 0, "survived": 0, "timeout": 0, "incompetent": 0}
    for worker, test, n in rows:
        if worker == "SKIPPED":
            continue
        if worker == "ABNORMAL" or test == "INCOMPETENT":
            counts["incompetent"] += n
        elif test == "KILLED":
            counts["killed"] += n
        elif test == "SURVIVED":
            counts["survived"] += n
        else:
            counts["timeout"] += n
    counts["total"] = sum(counts.values())
    return counts


def main(argv: list[str]) -> int:
    fresh = "--fresh" in argv
    recheck = "--recheck" in argv
    modules = [arg for arg in argv if not arg.startswith("--")]
    if not modules:
        print(__doc__, file=sys.stderr)
        return 2
    for module in modules:
        counts = run_module(module, fresh=fresh, recheck=recheck)
        print(json.dumps({"module": module, **counts}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
