"""Tracing a function into a static `Program`, and running, saving and exporting it.

    import autograd as ag
    traced = ag.jit.trace(model, example_x)      # runs model once, records its ops
    y = traced(x)                                # replays them (same shapes and dtypes)
    traced.save("model.safetensors")             # program + weights, checksummed
    again = ag.jit.load("model.safetensors")     # no model class needed
    ag.jit.export_onnx(traced, "model.onnx")

`trace` makes the batch size symbolic by default (`dynamic_batch=True`, see dynamic.py).
`compile_step(model, loss_fn, optimizer)` compiles a whole training step (see step.py).
`compile` does the tracing per input shape, as a decorator. Without a graph to record, a
replay calls the backend's primitives straight on arrays, and a backend that can fuse runs
of elementwise instructions (`Backend.fuse_elementwise`) makes each run one kernel.
"""

from .compile import compile
from .onnx_export import export_onnx
from .program import Program
from .serialization import load
from .step import CompiledStep, compile_step
from .traced import Traced
from .tracer import trace

__all__ = ["CompiledStep", "Program", "Traced", "compile", "compile_step", "export_onnx", "load",
           "trace"]

