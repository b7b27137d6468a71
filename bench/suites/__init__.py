"""The benchmark suites, in the order `--suite all` runs them. Each module has a NAME, a
`run(session)` and a docstring that says what it measures (the report quotes it)."""

from . import (
               compile_time,
               conv,
               distributed,
               elementwise,
               jit,
               matmul,
               memory,
               mlp,
               overhead,
               reduce,
               vectorization,
)

SUITES = {module.NAME: module for module in
          (overhead, elementwise, reduce, matmul, mlp, conv, vectorization, jit, compile_time,
           memory, distributed)}
