"""results.json: everything one run measured, with what it ran on. bench/README.md
documents each field."""

import json

from . import machine

SCHEMA_VERSION = 2


def assemble(session, command, suites, started, finished, other_work):
    """The results of a finished run. `suites` maps each suite run to its wall seconds;
    `other_work` is the interference.OtherWork started with the run."""
    return {
        "schema_version": SCHEMA_VERSION,
        "command": command,
        "started": started.isoformat(timespec="seconds"),
        "finished": finished.isoformat(timespec="seconds"),
        "quick": session.quick,
        "suites": suites,
        "machine": machine.describe(),
        "versions": machine.versions(),
        "other_work": other_work.summary(),
        "reference": session.reference,
        "comparators": [c.describe() for c in session.comparators],
        "skipped": session.skipped,
        "measurements": session.measurements,
        "targets": session.targets,
        "crossovers": crossovers(session),
        "sections": session.sections,
        "plots": None,
    }


def crossovers(session):
    """For each swept case where a GPU comparator ran: the smallest size from which the
    fastest GPU comparator beats the fastest CPU one at every larger size (None if never)."""
    gpu = {c.name for c in session.comparators if c.gpu}
    if not gpu:
        return []
    found = []
    for suite, case in dict.fromkeys((r["suite"], r["case"]) for r in session.measurements):
        best = {}
        for r in session.measurements:
            if (r["suite"], r["case"]) == (suite, case):
                side = "gpu" if r["comparator"] in gpu else "cpu"
                key = (r["size"], side)
                best[key] = min(best.get(key, float("inf")), r["seconds"]["median"])
        sizes = sorted({size for size, _ in best})
        both = [n for n in sizes if (n, "gpu") in best and (n, "cpu") in best]
        if not both:
            continue
        crossing = None
        for n in reversed(both):
            if best[n, "gpu"] < best[n, "cpu"]:
                crossing = n
            else:
                break
        found.append({"suite": suite, "case": case, "gpu_faster_from": crossing})
    return found


def write(results, path):
    with open(path, "w", encoding="utf-8") as file:
        json.dump(results, file, indent=1)
        file.write("\n")
