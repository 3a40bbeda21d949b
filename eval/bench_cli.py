"""Benchmark: how long ``intercoder --help`` and ``intercoder suggest --help`` take to answer,
and which heavy modules (torch, pandas, scikit-learn, ...) they import on the way (issue 18:
a new user's first command should answer within half a second).

Each command runs in a fresh Python process, as a user's shell starts it, ``repeats`` times;
the table gives the median and the fastest wall time. A second run of each, in a process that
prints ``sys.modules`` after answering, lists the heavy modules imported: there should be none.

Run: ``.venv/bin/python -m eval.bench_cli [--repeats 5]`` from the repository root.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HEAVY = frozenset(
    {
        "torch",
        "sentence_transformers",
        "transformers",
        "faiss",
        "pandas",
        "sklearn",
        "scipy",
        "spacy",
        "fastapi",
        "pyarrow",
        "nltk",
        "statsmodels",
        "matplotlib",
        "eval.methods",
        "eval.harness",
    }
)
COMMANDS: tuple[tuple[str, ...], ...] = (("--help",), ("suggest", "--help"))
ROOT = Path(__file__).resolve().parents[1]

# Runs the app in-process without exiting, then reports what it imported.
_PROBE = """
import json, sys
from service.cli.main import app
try:
    app(sys.argv[1:], standalone_mode=False)
except SystemExit:
    pass
print(json.dumps(sorted(sys.modules)), file=sys.stderr)
"""


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    return env


def time_command(arguments: tuple[str, ...], repeats: int) -> list[float]:
    """Wall seconds of ``python -m service.cli.main ARGUMENTS`` in fresh processes."""
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "service.cli.main", *arguments],
            check=True,
            stdout=subprocess.DEVNULL,
            env=_environment(),
            cwd=ROOT,
        )
        seconds.append(time.perf_counter() - started)
    return seconds


def heavy_imports(arguments: tuple[str, ...]) -> list[str]:
    """The heavy packages (and eval modules) the command imports."""
    done = subprocess.run(
        [sys.executable, "-c", _PROBE, *arguments],
        check=True,
        capture_output=True,
        text=True,
        env=_environment(),
        cwd=ROOT,
    )
    modules = json.loads(done.stderr.strip().splitlines()[-1])
    found = {name if name in HEAVY else name.split(".")[0] for name in modules}
    return sorted(found & HEAVY)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print("| command | median | fastest | heavy modules imported |")
    print("|---|---|---|---|")
    for arguments in COMMANDS:
        seconds = time_command(arguments, args.repeats)
        heavy = ", ".join(heavy_imports(arguments)) or "none"
        label = "intercoder " + " ".join(arguments)
        median, fastest = statistics.median(seconds), min(seconds)
        print(f"| `{label}` | {median:.2f} s | {fastest:.2f} s | {heavy} |")


if __name__ == "__main__":
    main()
