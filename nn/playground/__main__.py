"""`python -m nn.playground`: see nn.playground.cli."""

from ..command_line import run
from .cli import main

raise SystemExit(run(main))
