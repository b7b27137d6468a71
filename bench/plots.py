"""PNG plots of a run, drawn with matplotlib when it is importable:

- throughput.png: the metric against size (log-log) for every swept case, one line per
  comparator, the machine's memory bandwidth or BLAS peak as a dashed line, and the size
  from which a GPU comparator wins marked when one ran;
- mlp.png: training steps per second of each MLP, one bar per comparator;
- vectorization.png: milliseconds per step against n, per backend and way.
"""

import os

_SWEPT = ("elementwise", "reduce", "matmul")


def write(results, folder):
    """{"files": [paths written], "skipped": None}, or no files and the reason."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as error:
        return {"files": [], "skipped": f"matplotlib is not importable ({error})"}
    files = []
    for name, draw in (("throughput.png", _throughput), ("mlp.png", _mlp),
                       ("vectorization.png", _vectorization)):
        figure = draw(plt, results)
        if figure is not None:
            path = os.path.join(folder, name)
            figure.savefig(path, dpi=110)
            plt.close(figure)
            files.append(path)
    return {"files": files, "skipped": None}


def _records(results, suite, case=None):
    return [r for r in results["measurements"]
            if r["suite"] == suite and (case is None or r["case"] == case)]


def _cases(results, suites):
    return list(dict.fromkeys((r["suite"], r["case"]) for r in results["measurements"]
                              if r["suite"] in suites))


def _lines(axes, records, label_of=lambda r: r["comparator"], style_of=lambda r: "-"):
    """One log-log line per label; a comparator keeps its colour across the lines."""
    colours = {name: f"C{i}" for i, name in
               enumerate(dict.fromkeys(r["comparator"] for r in records))}
    for label in dict.fromkeys(label_of(r) for r in records):
        mine = sorted((r for r in records if label_of(r) == label), key=lambda r: r["size"])
        axes.loglog([r["size"] for r in mine], [r["metric"]["median"] for r in mine],
                    style_of(mine[0]), color=colours[mine[0]["comparator"]], marker="o",
                    markersize=3, label=label)


def _throughput(plt, results):
    cases = _cases(results, _SWEPT)
    if not cases:
        return None
    columns = min(2, len(cases))
    rows = (len(cases) + columns - 1) // columns
    figure, axes = plt.subplots(rows, columns, figsize=(6.5 * columns, 4.2 * rows),
                                squeeze=False)
    reference = results["reference"]
    for ax, (suite, case) in zip(axes.flat, cases):
        records = _records(results, suite, case)
        _lines(ax, records)
        unit = records[0]["metric"]["unit"]
        if unit == "GB/s" and "memory_bandwidth_gbs" in reference:
            ax.axhline(reference["memory_bandwidth_gbs"]["best"], color="gray", ls="--",
                       label="memory bandwidth")
        if unit == "GFLOP/s" and "blas_peak_gflops" in reference:
            ax.axhline(reference["blas_peak_gflops"], color="gray", ls="--", label="BLAS peak")
        for crossing in results["crossovers"]:
            if (crossing["suite"], crossing["case"]) == (suite, case) and \
                    crossing["gpu_faster_from"] is not None:
                ax.axvline(crossing["gpu_faster_from"], color="red", ls=":",
                           label="GPU fastest from here")
        ax.set_title(f"{suite}: {case}", fontsize=9)
        ax.set_xlabel("elements" if suite != "matmul" else "n (n x n matrices)")
        ax.set_ylabel(unit)
        ax.legend(fontsize=7)
    for ax in list(axes.flat)[len(cases):]:
        ax.set_visible(False)
    figure.tight_layout()
    return figure


def _mlp(plt, results):
    cases = _cases(results, ("mlp",))
    if not cases:
        return None
    figure, axes = plt.subplots(1, len(cases), figsize=(5.5 * len(cases), 4), squeeze=False)
    for ax, (suite, case) in zip(axes.flat, cases):
        records = _records(results, suite, case)
        names = [r["comparator"] for r in records]
        medians = [r["metric"]["median"] for r in records]
        errors = [[m - r["metric"]["min"] for m, r in zip(medians, records)],
                  [r["metric"]["max"] - m for m, r in zip(medians, records)]]
        bars = ax.bar(names, medians, yerr=errors, color="tab:blue", capsize=3)
        ax.bar_label(bars, fmt="%.4g", fontsize=7)
        ax.set_title(case, fontsize=9)
        ax.set_ylabel("training steps/s")
        ax.tick_params(axis="x", labelrotation=30, labelsize=8)
    figure.tight_layout()
    return figure


def _vectorization(plt, results):
    records = _records(results, "vectorization")
    if not records:
        return None
    figure, ax = plt.subplots(figsize=(7, 4.5))
    styles = dict(zip(dict.fromkeys(r["case"] for r in records), ("-", "--", ":")))
    _lines(ax, records, label_of=lambda r: f"{r['comparator']}: {r['case']}",
           style_of=lambda r: styles[r["case"]])
    ax.set_xlabel("n (batch = inputs = outputs)")
    ax.set_ylabel("ms per step")
    ax.set_title("one linear layer with backward, three ways", fontsize=9)
    ax.legend(fontsize=7)
    figure.tight_layout()
    return figure
