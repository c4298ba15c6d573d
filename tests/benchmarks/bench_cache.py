"""IMDB: cold vectorization (read Parquet, tokenize, vocabulary, ids, write the cache) vs a cached load.

Each repeat uses a fresh cache folder for the cold case, then loads the same entries in a new
StudyData (as a new worker process would: fingerprint the files, read the memory-mapped arrays
and verify their checksums). The machine is shared, so the figures are medians of repeats.

    .venv/bin/python tests/benchmarks/bench_cache.py --repeats 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from pydantic import TypeAdapter

from gapsearch.data.cache import StudyData
from gapsearch.spec.data import DataSpec

DATASETS = Path(__file__).resolve().parents[2] / ".." / "shared" / "datasets"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=20000)
    parser.add_argument("--sequence-length", type=int, default=400)
    args = parser.parse_args()
    cold, cached = [], []
    for _ in range(args.repeats):
        with tempfile.TemporaryDirectory() as cache:
            spec = TypeAdapter(DataSpec).validate_python(
                {"train": str(DATASETS / "imdb" / "train.parquet"), "cache_dir": cache}
            )
            started = time.perf_counter()
            StudyData(spec, DATASETS, 0).runs(args.max_tokens, args.sequence_length)
            cold.append(time.perf_counter() - started)
            started = time.perf_counter()
            data = StudyData(spec, DATASETS, 0)
            runs = data.runs(args.max_tokens, args.sequence_length)
            int(runs[0][1].x_train.sum())  # touch every page of the memory map
            cached.append(time.perf_counter() - started)
            assert data.built == []
    cold_s, cached_s = statistics.median(cold), statistics.median(cached)
    print(f"IMDB train (25000 reviews), max_tokens={args.max_tokens}, sequence_length={args.sequence_length}")
    print(f"cold vectorization: {cold_s:.2f} s (median of {args.repeats}: {', '.join(f'{c:.2f}' for c in cold)})")
    print(f"cached load:        {cached_s:.3f} s (median of {args.repeats}: {', '.join(f'{c:.3f}' for c in cached)})")
    print(f"ratio:              {cold_s / cached_s:.0f}x")


if __name__ == "__main__":
    main()
