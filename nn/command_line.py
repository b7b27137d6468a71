"""What every `python -m ...` entry point of pluggrad shares: piped into a program that stops
reading early (`python -m nn.playground | head -1`), it ends quietly, as Unix tools do,
instead of printing a BrokenPipeError traceback."""

import os
import sys


def run(main, *args):
    """`main(*args)`'s exit status; 1 (and no traceback) when stdout was closed under it."""
    try:
        status = main(*args)
        sys.stdout.flush()  # inside the try: a closed pipe may show only now
    except BrokenPipeError:
        # Python flushes stdout again at exit; pointing it at devnull keeps that quiet too
        # (the recipe in the documentation of the signal module).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return status
