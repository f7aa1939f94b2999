"""Run the benchmarks: `python -m bench` runs all of them, `python -m bench NAME [options]` one.

Names: rate_limit, status_endpoint, refresh_storm, crm_tab, nine_oclock. Each prints a table
and writes bench/results/NAME.json.
"""

from __future__ import annotations

import importlib
import sys

BENCHMARKS = ("rate_limit", "status_endpoint", "refresh_storm", "crm_tab", "nine_oclock")


def main(argv: list[str]) -> int:
    if argv and argv[0] in ("-h", "--help"):
        print(__doc__)
        return 0
    if argv:
        name, options = argv[0], argv[1:]
        if name not in BENCHMARKS:
            print(f"unknown benchmark {name!r}; choose from: {', '.join(BENCHMARKS)}")
            return 2
        importlib.import_module(f"bench.{name}").main(options)
        return 0
    for name in BENCHMARKS:
        print(f"\n=== {name} ===", flush=True)
        importlib.import_module(f"bench.{name}").main([])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
