"""The command-line programs end like Unix tools: quietly when their reader stops early
(`| head -1`), and with one line, not a traceback, when AUTOGRAD_BACKEND names nothing
usable."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nn.playground.cli import describe
from nn.playground.session import Config

ROOT = Path(__file__).resolve().parent.parent
ENVIRONMENT = {**os.environ, "PYTHONPATH": str(ROOT)}


def _first_line_then_close(arguments):
    """Run `python arguments`, read one line of its output and close the pipe, as `head -1`
    does; return that line, the exit status and what it wrote to stderr."""
    process = subprocess.Popen([sys.executable, *arguments], stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, env=ENVIRONMENT, cwd=ROOT)
    first = process.stdout.readline()
    process.stdout.close()
    _, errors = process.communicate(timeout=300)
    return first, process.returncode, errors


@pytest.mark.parametrize("arguments", [
    ["-m", "nn.playground", "--epochs", "300", "--samples", "40", "--out", "{tmp}/p.png"],
    ["-m", "nn.diagnostics", "--width", "8", "--batch", "4", "--layers", "30"],
    ["-c", "from nn.command_line import run\n"
           "def main():\n    for i in range(10**6):\n        print(i)\nrun(main)"],
], ids=["playground", "diagnostics", "any-main"])
def test_a_reader_that_stops_early_gets_no_traceback(arguments, tmp_path):
    arguments = [argument.replace("{tmp}", str(tmp_path)) for argument in arguments]
    first, status, errors = _first_line_then_close(arguments)
    assert first.strip()
    assert "Traceback" not in errors and "BrokenPipeError" not in errors, errors
    assert status in (0, 1)


@pytest.mark.parametrize("name", ["bogus", "cuda"])
def test_an_unusable_backend_variable_ends_with_one_line_naming_the_choices(name):
    result = subprocess.run([sys.executable, "-c", "import autograd"], capture_output=True,
                            text=True, env={**ENVIRONMENT, "AUTOGRAD_BACKEND": name},
                            timeout=120)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"ImportError: AUTOGRAD_BACKEND='{name}' cannot be used")
    assert "numpy" in lines[0] and "numba" in lines[0]


def test_the_unusable_backend_error_stays_catchable_in_a_program():
    code = ("try:\n    import backends\nexcept ImportError as error:\n"
            "    print(type(error).__name__)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env={**ENVIRONMENT, "AUTOGRAD_BACKEND": "bogus"}, timeout=120)
    assert result.stdout.strip() == "BackendChoiceError" and result.returncode == 0


def test_the_playground_header_names_no_activation_without_a_hidden_layer():
    assert "| no hidden layer, " in describe(Config(hidden=(), activation="relu"))
    assert "relu" not in describe(Config(hidden=(), activation="relu"))
    assert "| hidden 4,2, relu, " in describe(Config(hidden=(4, 2), activation="relu"))
