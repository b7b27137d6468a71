"""memory: what a training loop holds when it keeps its losses.

Users keep losses all the time (`history.append(loss)`). Each loop trains a 256-1024-1 tanh
MLP on 2,048 samples for 40 SGD steps, in a fresh process (`bench.memory_probe`), keeping
either every loss tensor ("kept losses") or only `loss.item()` ("items"). After a backward
that does not retain the graph, a kept loss should hold only the graph's skeleton, so the
two loops should need about the same memory. Figures in MB (10^6 bytes): the process's peak
resident memory, and the resident memory it holds after the loop beyond what it held before
(retained). "kept / items" divides the kept-losses loop's peak by the items loop's; the
engine aims at 1.2 at most. PyTorch on the CPU runs the same loop when it is installed.
"""

import json
import os
import subprocess
import sys

from ..comparators import PLUGGRAD, TORCH
from ..memory_probe import MODES, STEPS

NAME = "memory"
QUICK_STEPS = 10
LIMIT = 1.2
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def probe(engine, mode, steps):
    """One loop's figures, measured in a fresh Python process."""
    done = subprocess.run([sys.executable, "-m", "bench.memory_probe", engine, mode,
                           str(steps)], cwd=_ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"memory probe {engine} {mode} failed (exit {done.returncode}):\n"
                           f"{done.stderr}")
    return json.loads(done.stdout)


def run(session):
    steps = QUICK_STEPS if session.quick else STEPS
    engines = [(c.name, c.name) for c in session.pick(PLUGGRAD) if not c.gpu]
    engines += [(c.name, "torch") for c in session.pick(TORCH) if not c.gpu]
    rows = []
    for name, engine in engines:
        loops = {}
        for mode in MODES:
            print(f"  {NAME:13} {name:11} {mode} in a fresh process", file=sys.stderr)
            loops[mode] = probe(engine, mode, steps)
        rows.append({"comparator": name, "steps": steps, **loops,
                     "kept_over_items_peak": loops["kept"]["peak"] / loops["items"]["peak"]})
    session.sections[NAME] = {"limit": LIMIT, "loops": rows}


def render(section):
    """The suite's table for the markdown report."""
    header = ["comparator", "steps", "peak, kept losses", "peak, items",
              "retained, kept losses", "retained, items", "kept / items (peak)"]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in section["loops"]:
        kept, items = row["kept"], row["items"]
        ratio = row["kept_over_items_peak"]
        verdict = f"{ratio:.2f}" if ratio <= section["limit"] else f"**{ratio:.2f}**"
        cells = [row["comparator"], row["steps"], _mb(kept["peak"]), _mb(items["peak"]),
                 _mb(kept["retained"]), _mb(items["retained"]), verdict]
        lines.append("| " + " | ".join(str(cell) for cell in cells) + " |")
    return "\n".join(lines)


def _mb(count):
    return f"{count / 1e6:,.0f}"
