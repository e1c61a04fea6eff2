#!/usr/bin/env python3
"""Times pdfplumber text extraction, for comparison with the Rust extractor.

Usage: bench_pdfplumber.py [--reps N] FILE...

For every file, opens it with pdfplumber and runs page.extract_text() on all
pages, N times; prints one JSON object per file, in argument order:
{"file": ..., "pages": ..., "chars": ..., "runs": N, "median_s": ..., "error": null}
"""

import argparse
import json
import statistics
import sys
import time


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=3, help="timed runs per file (median is reported)")
    parser.add_argument("files", nargs="+")
    args = parser.parse_args()
    try:
        import pdfplumber
    except ImportError as error:
        for path in args.files:
            print(json.dumps({"file": path, "pages": 0, "chars": 0, "runs": 0, "median_s": None, "error": str(error)}))
        return 1

    for path in args.files:
        times = []
        pages = chars = 0
        error = None
        try:
            for _ in range(max(1, args.reps)):
                start = time.perf_counter()
                with pdfplumber.open(path) as pdf:
                    texts = [page.extract_text() or "" for page in pdf.pages]
                times.append(time.perf_counter() - start)
            pages = len(texts)
            chars = sum(len(text) for text in texts)
        except Exception as exc:  # report and go on with the next file
            error = f"{type(exc).__name__}: {exc}"
        print(
            json.dumps(
                {
                    "file": path,
                    "pages": pages,
                    "chars": chars,
                    "runs": len(times),
                    "median_s": statistics.median(times) if times else None,
                    "error": error,
                }
            ),
            flush=True,
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
