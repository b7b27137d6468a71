"""Exporting a traced forward to ONNX, for the ops models are made of.

Each instruction becomes one or a few ONNX nodes; Python scalars become constant
initializers of the dtype NumPy would give them, and the weights become initializers read
through `Tensor.numpy()`. An op without an ONNX form raises an error naming it.

A program of symbolic batch exports with a dynamic first axis named "batch" on its inputs
and outputs; a target shape holding the batch (a reshape's) is built in the graph from the
first batched input's shape.
"""

from .dynamic import BATCH
from .ops import FUNCTIONS
from .program import Ref

# One ONNX node on the same operands, from the op table's `onnx` column.
_ONE_NODE = {name: op.onnx for name, op in FUNCTIONS.items()
             if op.onnx and op.uses is not None or name == "MatMul"}
_UNARY = {name: onnx for name, onnx in _ONE_NODE.items() if len(FUNCTIONS[name].uses or ()) == 1}
_UNARY["detach"] = "Identity"
_BINARY = {name: onnx for name, onnx in _ONE_NODE.items() if name not in _UNARY}
_COMPARISONS = {"lt": "Less", "le": "LessOrEqual", "gt": "Greater", "ge": "GreaterOrEqual",
                "eq": "Equal", "ne": "Equal"}
# Reductions whose axes are an attribute (ReduceSum takes them as an input: written below).
_REDUCTIONS = {name: op.onnx for name, op in FUNCTIONS.items()
               if op.onnx and op.onnx.startswith("Reduce") and name != "Sum"}
# Ops written by hand below: several nodes, or attributes of their own.
_SPECIAL = {"Linear", "Log1p", "Transpose", "Reshape", "BroadcastTo", "Sum", "Softmax",
            "LogSoftmax", "Where", "where", "Clip", "AsType", "astype", "Concat", "Stack",
            "argmax", "argmin"}
SUPPORTED = sorted(set(_UNARY) | set(_BINARY) | set(_COMPARISONS) | set(_REDUCTIONS)
                   | _SPECIAL)


def export_onnx(traced, path, opset=17):
    """Write `traced`'s forward to `path` as an ONNX model (opset `opset`, 17 or later), and
    return the model. Needs the `onnx` package (`pip install pluggrad[onnx]`)."""
    try:
        import onnx
    except ImportError:
        raise ImportError("jit.export_onnx needs the onnx package: pip install onnx") from None
    program = traced.program
    instructions = program.live_instructions()
    unsupported = sorted({i.op for i in instructions if i.op not in SUPPORTED})
    if unsupported:
        raise ValueError(f"export_onnx: cannot export the op(s) {', '.join(unsupported)} of "
                         f"{program.name}; ONNX export supports {', '.join(SUPPORTED)}")
    graph = _GraphBuilder(onnx, program)
    for slot, tensor in zip(program.parameters + program.constants,
                            traced.parameters + traced.constants):
        graph.initializers.append(onnx.numpy_helper.from_array(tensor.numpy(),
                                                               graph.name(slot)))
    for instruction in instructions:
        graph.add(instruction)
    inputs = [graph.value_info(graph.name(s), s) for s in program.inputs]
    outputs = []
    for i, ref in enumerate(program.output_refs()):
        name = f"output{i}"
        graph.node("Identity", [graph.name(ref.slot)], [name])
        outputs.append(graph.value_info(name, ref.slot))
    model = onnx.helper.make_model(
        onnx.helper.make_graph(graph.nodes, program.name, inputs, outputs, graph.initializers),
        opset_imports=[onnx.helper.make_opsetid("", opset)], producer_name="pluggrad")
    onnx.checker.check_model(model)
    onnx.save(model, path)
    return model


class _GraphBuilder:
    def __init__(self, onnx, program):
        self.onnx = onnx
        self.program = program
        self.nodes = []
        self.initializers = []
        self._count = 0
        proto = onnx.TensorProto
        self.types = {"float16": proto.FLOAT16, "float32": proto.FLOAT,
                      "float64": proto.DOUBLE, "int32": proto.INT32, "int64": proto.INT64,
                      "bool": proto.BOOL}

    def name(self, slot):
        info = self.program.slots[slot]
        return info.name if info.kind != "result" else f"v{slot}"

    def value_info(self, name, slot):
        info = self.program.slots[slot]
        shape = ["batch" if n is None else n for n in info.shape]
        return self.onnx.helper.make_tensor_value_info(name, self.types[info.dtype], shape)

    def shape(self, dims):
        """A 1-D int64 value for a target shape; `BATCH` in it becomes the batch size read
        from the first batched input."""
        if BATCH not in dims:
            return self.constant(list(dims), "int64")
        batched = next(s for s in self.program.inputs
                       if self.program.slots[s].shape[:1] == (None,))
        batch = self.fresh()
        self.node("Shape", [self.name(batched)], [batch], start=0, end=1)
        parts = [batch if d is BATCH else self.constant([d], "int64") for d in dims]
        out = self.fresh()
        self.node("Concat", parts, [out], axis=0)
        return out

    def fresh(self):
        self._count += 1
        return f"t{self._count}"

    def node(self, op, inputs, outputs, **attributes):
        self.nodes.append(self.onnx.helper.make_node(op, inputs, outputs, **attributes))

    def constant(self, value, dtype):
        """An initializer holding a scalar (dims []) or, for a list, a 1-D tensor."""
        name = self.fresh()
        values = value if isinstance(value, list) else [value]
        dims = [len(values)] if isinstance(value, list) else []
        self.initializers.append(self.onnx.helper.make_tensor(name, self.types[dtype], dims,
                                                              values))
        return name

    def operand(self, arg, dtype):
        """An argument as an ONNX value name; scalars become constants of `dtype`."""
        if isinstance(arg, Ref):
            return self.name(arg.slot)
        return self.constant(arg, dtype)

    def dtype(self, arg, fallback):
        return self.program.slots[arg.slot].dtype if isinstance(arg, Ref) else fallback

    def add(self, instruction):
        op, args = instruction.op, instruction.args
        out = [self.name(s) for s in instruction.outputs]
        dtype = self.program.slots[instruction.outputs[0]].dtype
        if op in _UNARY:
            self.node(_UNARY[op], [self.operand(args[0], dtype)], out)
        elif op in _BINARY:
            self.node(_BINARY[op], [self.operand(a, dtype) for a in args], out)
        elif op in _COMPARISONS:
            common = self.dtype(args[0], self.dtype(args[1], "float32"))
            inputs = [self.operand(a, common) for a in args]
            if op == "ne":
                equal = self.fresh()
                self.node("Equal", inputs, [equal])
                self.node("Not", [equal], out)
            else:
                self.node(_COMPARISONS[op], inputs, out)
        elif op in _REDUCTIONS:
            self.node(_REDUCTIONS[op], [self.operand(args[0], dtype)], out,
                      axes=list(args[1]), keepdims=int(args[2]))
        elif op == "Sum":
            self.node("ReduceSum", [self.operand(args[0], dtype),
                                    self.constant(list(args[1]), "int64")], out,
                      keepdims=int(args[2]), noop_with_empty_axes=1)
        elif op == "Linear":
            self._linear(args, dtype, out)
        elif op == "Log1p":
            shifted = self.fresh()
            self.node("Add", [self.operand(args[0], dtype), self.constant(1, dtype)],
                      [shifted])
            self.node("Log", [shifted], out)
        elif op == "Transpose":
            self.node("Transpose", [self.operand(args[0], dtype)], out, perm=list(args[1]))
        elif op in ("Reshape", "BroadcastTo"):
            self.node("Reshape" if op == "Reshape" else "Expand",
                      [self.operand(args[0], dtype), self.shape(args[1])], out)
        elif op in ("Softmax", "LogSoftmax"):
            self.node(op, [self.operand(args[0], dtype)], out, axis=args[1])
        elif op in ("Where", "where"):
            self.node("Where", [self.operand(args[0], "bool")]
                      + [self.operand(a, dtype) for a in args[1:]], out)
        elif op == "Clip":
            self._clip(args, dtype, out)
        elif op in ("AsType", "astype"):
            self.node("Cast", [self.operand(args[0], dtype)], out, to=self.types[dtype])
        elif op == "Concat":
            self.node("Concat", [self.operand(a, dtype) for a in args[1:]], out, axis=args[0])
        elif op == "Stack":
            axes = self.constant([args[0]], "int64")
            expanded = []
            for arg in args[1:]:
                expanded.append(self.fresh())
                self.node("Unsqueeze", [self.operand(arg, dtype), axes], [expanded[-1]])
            self.node("Concat", expanded, out, axis=args[0])
        else:  # argmax, argmin
            self._arg_extreme(op, args, out)

    def _linear(self, args, dtype, out):
        x, weight, bias = args
        transposed, product = self.fresh(), self.fresh()
        self.node("Transpose", [self.operand(weight, dtype)], [transposed], perm=[1, 0])
        if bias is None:
            self.node("MatMul", [self.operand(x, dtype), transposed], out)
            return
        self.node("MatMul", [self.operand(x, dtype), transposed], [product])
        self.node("Add", [product, self.operand(bias, dtype)], out)

    def _clip(self, args, dtype, out):
        value = self.operand(args[0], dtype)
        bounds = [(name, bound) for name, bound in (("Max", args[1]), ("Min", args[2]))
                  if bound is not None]
        if not bounds:
            self.node("Identity", [value], out)
        for i, (name, bound) in enumerate(bounds):
            target = out if i == len(bounds) - 1 else [self.fresh()]
            self.node(name, [value, self.operand(bound, dtype)], target)
            value = target[0]

    def _arg_extreme(self, op, args, out):
        value = self.operand(args[0], self.dtype(args[0], "float32"))
        axis = args[1]
        if axis is None:
            flat = self.fresh()
            self.node("Reshape", [value, self.constant([-1], "int64")], [flat])
            value, axis = flat, 0
        self.node("ArgMax" if op == "argmax" else "ArgMin", [value], out, axis=axis,
                  keepdims=0)
