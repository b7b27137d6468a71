"""pluggrad's benchmark suite: `python -m bench` from the repository root.

It times every available backend against hand-written NumPy (the limit the engine aims at)
and PyTorch, and writes a markdown report, results.json and plots; bench/README.md
describes the options and the results file. It is part of the repository, not of the
installed distribution.
"""
