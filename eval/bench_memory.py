"""Benchmark: peak memory of a process holding the model and a 100k-exemplar index.

Runs the work in a fresh child process and reads its peak resident set size (ru_maxrss), so the
figure is the whole process: Python, torch, the loaded model, the index and a suggestion batch.

Run: ``.venv/bin/python -m eval.bench_memory [--exemplars 100000]``.
Target (issue 3): < 1 GiB.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

CHILD = """
import json, resource, sys
import numpy as np
from models.encoder import SentenceTransformerEncoder
from models.index import ExemplarIndex
count = int(sys.argv[1])
encoder = SentenceTransformerEncoder()
rng = np.random.default_rng(0)
index = ExemplarIndex(encoder.dim, model_id=encoder.model_id, codebook_version="bench")
for start in range(0, count, 10_000):
    block = rng.normal(size=(min(10_000, count - start), encoder.dim)).astype(np.float32)
    block /= np.linalg.norm(block, axis=1, keepdims=True)
    index.add(np.arange(start, start + len(block), dtype=np.int64), block)
queries = encoder.encode(["We retrain the model every week."] * 256)
found = index.search(queries, 10)
assert found.ids.shape == (256, 10) and len(index) == count
peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"exemplars": count, "kind": index.kind_in_use, "peak_mib": peak_kib / 1024}))
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exemplars", type=int, default=100_000)
    args = parser.parse_args()
    result = subprocess.run(
        [sys.executable, "-c", CHILD, str(args.exemplars)],
        check=True,
        capture_output=True,
        text=True,
    )
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    print("| exemplars | index kind | peak RSS (MiB) | target |")
    print("|---|---|---|---|")
    print(f"| {figures['exemplars']:,} | {figures['kind']} | {figures['peak_mib']:.0f} | < 1024 |")


if __name__ == "__main__":
    main()
