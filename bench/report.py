"""The markdown report of a run: printed to the terminal, and written to bench/RESULTS.md
with `--results-md`. Everything in it comes from the results dict that results.json holds."""

import inspect
import os

from .interference import BUSY_CPUS
from .suites import SUITES


def render(results):
    parts = [_header(results), _targets(results)]
    for suite in results["suites"]:
        parts.append(_suite(results, suite))
    parts += [_skipped(results), _profiles(results), _plots(results)]
    return "\n\n".join(part for part in parts if part) + "\n"


def number(value):
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.1f}"
    if abs(value) >= 10:
        return f"{value:.2f}"
    return f"{value:.3g}"


def _table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


# ---------------------------------------------------------------------------- header
def _header(results):
    machine, versions = results["machine"], results["versions"]
    blas = "; ".join(" ".join(str(part) for part in (pool["name"], pool["version"]) if part)
                     + f" ({pool['num_threads']} threads)" for pool in machine["blas"]
                     ) or "unknown"
    gpu = ", ".join(f"{g.get('name')} (driver {g.get('driver')})" for g in machine["gpu"]
                    ) if machine["gpu"] else "none"
    threads = ", ".join(f"{name} {count}" for name, count in machine["threads"].items()
                        if count is not None)
    libraries = ", ".join(f"{name} {version}" for name, version in versions.items()
                          if version and name != "git_commit")
    lines = [
        "# pluggrad benchmark results",
        "",
        f"- command: `{results['command']}`",
        f"- date: {results['started']} to {results['finished']}"
        + (" (quick sizes)" if results["quick"] else ""),
        f"- machine: {machine['cpu']}, {machine['logical_cpus']} logical CPUs "
        f"({machine['usable_cpus']} usable), {machine['memory_gib']} GiB; {machine['os']}",
        f"- threads: {threads}",
        f"- BLAS and thread pools: {blas}",
        f"- GPU: {gpu}",
        f"- versions: Python {machine['python']}, {libraries}; commit "
        f"{versions['git_commit']}",
    ]
    other = results["other_work"]
    if other["cpus_busy"] is None:
        lines.append(f"- other work during the run: unknown (no /proc/stat); load average at "
                     f"the end {other['load_average']:.2f}")
    else:
        lines.append(f"- other work during the run: other processes kept {other['cpus_busy']:.2f} "
                     f"of {machine['logical_cpus']} CPUs busy on average")
        if other["cpus_busy"] > BUSY_CPUS:
            lines.append("- **the machine was busy with other work during this run: timings "
                         "are noisy (multi-threaded ones most), rerun on an idle machine "
                         "before trusting them**")
    reference = results["reference"]
    if "memory_bandwidth_gbs" in reference:
        bandwidth = reference["memory_bandwidth_gbs"]
        figures = ", ".join(f"{name} {number(value)} GB/s" for name, value in bandwidth.items()
                            if isinstance(value, float) and name != "best")
        lines.append(f"- memory bandwidth (256 MiB copy, read + write): {figures}")
    if "blas_peak_gflops" in reference:
        lines.append(f"- BLAS peak (NumPy A @ B, best over sizes): "
                     f"{number(reference['blas_peak_gflops'])} GFLOP/s")
    return "\n".join(lines)


# ---------------------------------------------------------------------------- targets
def _targets(results):
    if not results["targets"]:
        return ""
    rows = []
    for target in results["targets"]:
        detail = target["detail"]
        if target["status"] == "not measured":
            verdict = "not measured"
        elif target["status"] == "noisy":
            verdict = "**noisy, rerun**"
            detail += "; noisy: " + "; ".join(target.get("noise", []))
        elif target["status"] == "met":
            verdict = "met"
        else:
            verdict = f"**missed by {target['missed_by']:.0%}**"
        ratio = "-" if target["ratio"] is None else f"{target['ratio']:.2f}x"
        if target.get("spread"):
            ratio += f" ±{target['spread']:.0%}"
        rows.append([target["description"], ratio, f"{target['limit']}x", verdict, detail])
    return ("## Targets\n\nTime ratios measured in this run (lower is better), with their "
            "spread (the figures' spreads combined). A target is judged only when its figures "
            "are steady and the ratio is clear of the limit by more than its spread; "
            "otherwise it says **noisy, rerun**.\n\n"
            + _table(["target", "measured", "limit", "status", "detail"], rows))


# ---------------------------------------------------------------------------- suites
def _suite(results, suite):
    module = SUITES[suite]
    parts = [f"## {suite}", inspect.cleandoc(module.__doc__),
             f"Wall time of the suite: {results['suites'][suite]:.0f} s."]
    if suite in results["sections"]:
        # A suite with figures of its own renders them with its `render`; compile's is here.
        render_section = getattr(module, "render", _compile_section)
        parts.append(render_section(results["sections"][suite]))
    records = [r for r in results["measurements"] if r["suite"] == suite]
    for case in dict.fromkeys(r["case"] for r in records):
        parts.append(_case(results, [r for r in records if r["case"] == case]))
    return "\n\n".join(parts)


def _case(results, records):
    unit = records[0]["metric"]["unit"]
    comparators = list(dict.fromkeys(r["comparator"] for r in records))
    sizes = sorted(set(r["size"] for r in records))
    cell = {(r["size"], r["comparator"]): r for r in records}
    title = (f"### {records[0]['case']} ({unit}, median ±spread of the repeats; *noisy* "
             f"marks a figure not to trust)")
    crossing = next((c["gpu_faster_from"] for c in results["crossovers"]
                     if (c["suite"], c["case"]) == (records[0]["suite"], records[0]["case"])),
                    None)
    if crossing is not None:
        title += f"\n\nA GPU comparator is the fastest from {crossing:,} on."
    ratio = "numpy" in comparators and "numba" in comparators
    header = ["size"] + comparators + (["numba/numpy time"] if ratio else [])
    rows = []
    for n in sizes:
        row = [f"{n:,}"]
        for name in comparators:
            record = cell.get((n, name))
            row.append("-" if record is None else _figure(record))
        if ratio:
            numba, numpy = cell.get((n, "numba")), cell.get((n, "numpy"))
            row.append("-" if numba is None or numpy is None else
                       f"{numba['seconds']['median'] / numpy['seconds']['median']:.2f}")
        rows.append(row)
    return title + "\n\n" + _table(header, rows)


def _figure(record):
    metric = record["metric"]
    text = f"{number(metric['median'])} ±{metric.get('spread', 0):.0%}"
    return text + (" *noisy*" if record.get("noisy") else "")


def _compile_section(section):
    rows = [[w["name"]] + [number(w[key]["median"]) for key in
                           ("cold_first_call", "cached_first_call", "warm_call",
                            "cold_compile", "cached_load")]
            for w in section["workloads"]]
    startup = section["startup_seconds"]
    return (f"Backend {section['backend']}, {section['runs']} run(s) of each kind; seconds, "
            f"median. Import and backend creation: {number(startup['cold']['median'])} s "
            f"cold, {number(startup['cached']['median'])} s cached. All workloads: "
            f"{number(section['total_cold_compile'])} s compiling cold, "
            f"{number(section['total_cached_load'])} s loading from the cache.\n\n"
            + _table(["workload", "first call, cold", "first call, cached", "warm call",
                      "compile (cold - warm)", "cache load (cached - warm)"], rows))


# ---------------------------------------------------------------------------- the rest
def _skipped(results):
    if not results["skipped"]:
        return "## Skipped\n\nNothing: every comparator ran."
    rows = [[s["comparator"], s["suite"] or "all", s["reason"]] for s in results["skipped"]]
    return "## Skipped\n\n" + _table(["comparator", "suite", "reason"], rows)


def _profiles(results):
    parts = []
    for target in results["targets"]:
        if target["profile"]:
            rows = [[f"`{p['function']}`", number(p["calls_per_step"]),
                     number(p["own_us_per_step"]), number(p["cumulative_us_per_step"])]
                    for p in target["profile"]]
            parts.append(f"### {target['description']}\n\nMissed by "
                         f"{target['missed_by']:.0%}. cProfile, per step, by own time "
                         f"(profiling inflates Python-level costs):\n\n"
                         + _table(["function", "calls", "own us", "cumulative us"], rows))
    if not parts:
        return ""
    return "## Where the time goes in missed targets\n\n" + "\n\n".join(parts)


def _plots(results):
    plots = results["plots"]
    if plots is None:
        return ""
    if plots["skipped"]:
        return f"## Plots\n\nNo plots: {plots['skipped']}."
    if not plots["files"]:
        return "## Plots\n\nNone: the suites run have no plot."
    return "## Plots\n\n" + "\n".join(f"- `{os.path.relpath(path)}`" for path in plots["files"])
