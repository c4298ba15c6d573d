"""(c) IMDB: cold data preparation (read Parquet, tokenize, vocabulary, ids, write the cache) against a cached load.

Each repeat uses a fresh cache folder for the cold case, then loads the same entries in a new
StudyData, as a new worker process would: fingerprint the files, read the memory-mapped arrays
and verify their checksums, and touch every page. Medians of the repeats.

    python -m tests.benchmarks.data_cache [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

from pydantic import TypeAdapter

from gapsearch.data.cache import StudyData
from gapsearch.spec.data import DataSpec
from tests.benchmarks._common import ROOT, load_average, write_results

DATASETS = (ROOT / ".." / "shared" / "datasets").resolve()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--max-tokens", type=int, default=20000)
    parser.add_argument("--sequence-length", type=int, default=400)
    args = parser.parse_args()
    before = load_average()
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
            assert data.built == [], "the second StudyData must read, not build"
    cold_s, cached_s = statistics.median(cold), statistics.median(cached)
    print(f"cold {cold_s:.2f} s, cached {cached_s:.3f} s, cached/cold {cached_s / cold_s:.2%}")
    write_results(
        "data_cache",
        {
            "what": f"IMDB train.parquet (25000 reviews; 80/20 validation split), max_tokens={args.max_tokens}, "
            f"sequence_length={args.sequence_length}",
            "repeats": args.repeats,
            "cold_seconds": cold,
            "cached_seconds": cached,
            "cold_median": cold_s,
            "cached_median": cached_s,
            "cached_over_cold": cached_s / cold_s,
            "load_average_before": before,
            "load_average_after": load_average(),
        },
    )


if __name__ == "__main__":
    main()
