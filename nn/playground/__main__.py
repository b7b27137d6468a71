"""`python -m nn.playground`: see nn.playground.cli."""

from .cli import main

raise SystemExit(main())
