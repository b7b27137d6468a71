"""`python -m bench`: run the benchmark suites, print a markdown report, write results.json
and plots into --out, and (with --results-md) the report to a file such as bench/RESULTS.md.

    python -m bench --suite all --quick
    python -m bench --backends numpy,numba --suite elementwise,mlp --out /tmp/bench
    python -m bench --suite all --results-md bench/RESULTS.md
"""

import argparse
import datetime
import os
import sys
import time

from . import interference, plots, report, results
from .comparators import discover
from .session import Session
from .suites import SUITES

DEFAULT_OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "out")


def _names(text):
    return [name.strip() for name in text.split(",") if name.strip()]


def parse_arguments(argv):
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description="Benchmark pluggrad's backends against hand-written NumPy and PyTorch.")
    parser.add_argument("--backends", type=_names, default=None,
                        help="comma-separated pluggrad backends (default: every registered "
                             "one; those that cannot run are listed as skipped)")
    parser.add_argument("--suite", type=_names, default=["all"],
                        help=f"comma-separated suites: {', '.join(SUITES)} or all "
                             f"(default: all)")
    parser.add_argument("--quick", action="store_true",
                        help="smaller sizes and fewer repeats (about a minute per suite)")
    parser.add_argument("--out", default=DEFAULT_OUT,
                        help="folder for results.json and the plots (default: bench/out)")
    parser.add_argument("--results-md", default=None, metavar="PATH",
                        help="also write the markdown report to PATH (e.g. bench/RESULTS.md)")
    args = parser.parse_args(argv)
    suites = list(SUITES) if "all" in args.suite else args.suite
    unknown = [name for name in suites if name not in SUITES]
    if unknown:
        parser.error(f"unknown suite(s) {', '.join(unknown)}; choose from "
                     f"{', '.join(SUITES)} or all")
    args.suite = suites
    return args


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    args = parse_arguments(argv)
    started = datetime.datetime.now(datetime.timezone.utc)
    other_work = interference.OtherWork()
    comparators, skipped = discover(args.backends)
    session = Session(args.quick, comparators, skipped)
    wall = {}
    for name in args.suite:
        print(f"{name}:", file=sys.stderr)
        start = time.perf_counter()
        SUITES[name].run(session)
        wall[name] = time.perf_counter() - start

    finished = datetime.datetime.now(datetime.timezone.utc)
    command = " ".join(["python -m bench"] + argv)
    outcome = results.assemble(session, command, wall, started, finished, other_work)
    os.makedirs(args.out, exist_ok=True)
    outcome["plots"] = plots.write(outcome, args.out)
    results.write(outcome, os.path.join(args.out, "results.json"))
    markdown = report.render(outcome)
    print(markdown)
    if args.results_md:
        with open(args.results_md, "w", encoding="utf-8") as file:
            file.write(markdown)
    return outcome


def command():
    """`python -m bench`: the results go to stdout and files, the exit status is 0."""
    main()
    return 0


if __name__ == "__main__":
    from nn.command_line import run

    raise SystemExit(run(command))
