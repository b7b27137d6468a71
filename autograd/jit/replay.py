"""Running a Program: on arrays without a graph, or through the ops to record one.

Without a graph, the program becomes one generated Python function: a line per instruction
calling the backend primitive on arrays (or a fused kernel for a run of elementwise
instructions), with no Tensor or graph object between the lines. Each value is dropped
(`del`) right after its last use, so its memory goes back to the allocator while the replay
runs and the next value of that size takes it (see backends/allocator.py): a replay's peak
is what is live at once, not every value it computes. Only names chosen here and
slot numbers appear in its source; ops and attributes are bound by name from a namespace,
so nothing read from a saved file ever becomes code.

With a graph, each instruction goes through its op's `Function.apply`, exactly as the eager
code did, so `backward()` and training work through a traced function.
"""

from ..function import _ForwardContext, primitive_op
from ..tensor import Tensor
from .fusion import fuse
from .ops import DETACH, DIRECT_PRIMITIVE
from .program import Ref

# What the shared forward context says about gradients: no argument of any op needs one.
_MOST_ARGUMENTS = 64


def array_replay(traced, program, check_input):
    """The generated function `replay(inputs) -> outputs` of `program` (the Traced's own,
    or one of its batch sizes), and its source. `check_input(i, value)` raises the error
    for an input that does not match.

    Instructions that read only parameters and constants (a weight's transpose) move to a
    `prepare()` whose results are kept until a parameter changes: it holds another array, or
    its version moved (an in-place op or an optimiser step)."""
    backend = traced.backend
    instructions = program.live_instructions()
    weight_only = _weight_only(program, instructions)
    main = [i for i in instructions if i not in weight_only]
    namespace = {"Tensor": Tensor, "backend": backend, "check_input": check_input,
                 "ctx": _ForwardContext(backend, _MOST_ARGUMENTS)}
    for slot, tensor in zip(program.parameters, traced.parameters):
        namespace[f"p{slot}"] = tensor
    for slot, tensor in zip(program.constants, traced.constants):
        namespace[f"v{slot}"] = tensor.data

    kept = _kept(program, weight_only, main)
    lines = []
    if weight_only:
        lines += _prepare_source(program, weight_only, kept, namespace)
    lines.append("def replay(inputs):")
    lines += _input_checks(program, backend, namespace)
    body = []
    if weight_only:
        body += _prepared_values(program, weight_only, kept)
    body += _parameter_loads(program, main)
    computed = _instruction_lines(main, fuse(program, main, backend), namespace)
    body += _release_dead_values(computed, {ref.slot for ref in program.output_refs()})
    lines += [f"    {line}" for line in body]
    lines.append(f"    return {_output_source(program.output)}")

    source = "\n".join(lines) + "\n"
    exec(compile(source, f"<replay of {program.name}>", "exec"), namespace)
    return namespace["replay"], source


def _weight_only(program, instructions):
    """The instructions whose arguments come only from parameters, constants and each
    other: their values change only when a parameter does."""
    fixed = set(program.parameters) | set(program.constants)
    found = []
    for instruction in instructions:
        if all(ref.slot in fixed for ref in instruction.refs()):
            fixed.update(instruction.produced())
            found.append(instruction)
    return found


def _prepare_source(program, weight_only, kept, namespace):
    """`prepare()`, returning the state it was computed from (each parameter's array and
    version) followed by the values the replay reads."""
    parameters = _parameters_read(program, weight_only)
    namespace["cache"] = [None] * (2 * len(parameters) + len(kept))
    state = [f"p{s}.data, p{s}._version" for s in parameters]
    values = [f"v{s}" for s in kept]
    computed = _instruction_lines(weight_only, {}, namespace)
    body = _parameter_loads(program, weight_only) + _release_dead_values(computed, set(kept))
    return (["def prepare():"] + [f"    {line}" for line in body]
            + [f"    return [{', '.join(state + values)}]", ""])


def _prepared_values(program, weight_only, kept):
    parameters = _parameters_read(program, weight_only)
    stale = " or ".join(f"p{s}.data is not cache[{2 * i}] or p{s}._version != cache[{2 * i + 1}]"
                        for i, s in enumerate(parameters)) or "cache[0] is None"
    lines = [f"if {stale}:", "    cache[:] = prepare()"]
    for i, slot in enumerate(kept):
        lines.append(f"v{slot} = cache[{2 * len(parameters) + i}]")
    return lines


def _parameters_read(program, instructions):
    read = {ref.slot for i in instructions for ref in i.refs()}
    return [s for s in program.parameters if s in read]


def _kept(program, weight_only, main):
    """The values computed in `prepare()` that the rest of the program reads or returns."""
    computed = {s for i in weight_only for s in i.produced()}
    read = {ref.slot for i in main for ref in i.refs()} | {
        ref.slot for ref in program.output_refs()}
    return sorted(computed & read)


def _input_checks(program, backend, namespace):
    names = [f"x{i}" for i in range(len(program.inputs))]
    lines = [f"    {', '.join(names)}, = inputs"] if names else []
    for i, slot in enumerate(program.inputs):
        info = program.slots[slot]
        namespace[f"shape{i}"] = info.shape
        namespace[f"dtype{i}"] = backend.zeros((), info.dtype).dtype
        lines += [f"    if type(x{i}) is not Tensor or x{i}.backend is not backend or "
                  f"x{i}.data.shape != shape{i} or x{i}.data.dtype != dtype{i}:",
                  f"        check_input({i}, x{i})",
                  f"    v{slot} = x{i}.data"]
    return lines


def _parameter_loads(program, instructions):
    return [f"v{s} = p{s}.data" for s in _parameters_read(program, instructions)]


def _release_dead_values(computed, keep):
    """The lines of `computed` ((line, slots read, slots written) each), with a `del` of
    every written value after the line that reads it last (right away if nothing does),
    except the values in `keep`."""
    last_read = {}
    for index, (_, reads, writes) in enumerate(computed):
        for slot in writes:
            last_read[slot] = index
        for slot in reads:
            if slot in last_read:
                last_read[slot] = index
    dead_after = {}
    for slot, index in last_read.items():
        if slot not in keep:
            dead_after.setdefault(index, []).append(slot)
    lines = []
    for index, (line, _, _) in enumerate(computed):
        lines.append(line)
        if index in dead_after:
            lines.append("del " + ", ".join(f"v{s}" for s in sorted(dead_after[index])))
    return lines


def _instruction_lines(instructions, fused, namespace):
    """A line per instruction (or per fused run), `v<out> = op<n>(v<in>, <attribute>)`, as
    (line, slots read, slots written)."""
    lines = []
    position = 0
    while position < len(instructions):
        run = fused.get(position)
        if run is not None:
            name = f"fused{run.output_slots[0]}"
            namespace[name] = run.kernel
            line = (f"{_targets(run.output_slots, True)} = "
                    f"{name}({', '.join(f'v{s}' for s in run.input_slots)})")
            lines.append((line, run.input_slots, run.output_slots))
            position += run.length
            continue
        instruction = instructions[position]
        name = (f"op{instruction.outputs[0]}" if instruction.outputs
                else f"into{instruction.args[0].slot}_{position}")
        args = [_source(arg, f"{name}_{i}", namespace) for i, arg in enumerate(instruction.args)]
        if instruction.saved:
            # The forward runs with a context that keeps what it saves, read out after it.
            namespace[name] = instruction.fn.forward
            namespace["SavingContext"] = SavingContext
            saved = ", ".join(f"v{slot}" for _, slot in instruction.saved)
            picks = ", ".join(f"{name}_ctx.saved[{index}]" for index, _ in instruction.saved)
            line = (f"{name}_ctx = SavingContext(backend); "
                    f"{_targets(instruction.outputs, instruction.multiple)} = "
                    f"{name}({name}_ctx, {', '.join(args)}); {saved}, = {picks},")
            lines.append((line, [ref.slot for ref in instruction.refs()],
                          instruction.produced()))
            position += 1
            continue
        if instruction.fn is None and instruction.op == DETACH:
            call = args[0]
        elif instruction.fn is None:
            namespace[name] = getattr(namespace["backend"], instruction.op)
            call = f"{name}({', '.join(args)})"
        elif instruction.fn in DIRECT_PRIMITIVE:
            namespace[name] = getattr(namespace["backend"], DIRECT_PRIMITIVE[instruction.fn])
            call = f"{name}({', '.join(args)})"
        else:
            namespace[name] = instruction.fn.forward
            call = f"{name}(ctx, {', '.join(args)})"
        if instruction.in_place:
            lines.append((call, [ref.slot for ref in instruction.refs()], ()))
            position += 1
            continue
        lines.append((f"{_targets(instruction.outputs, instruction.multiple)} = {call}",
                      [ref.slot for ref in instruction.refs()], instruction.outputs))
        position += 1
    return lines


class SavingContext:
    """The context of a replayed forward whose saved values the program reads."""

    __slots__ = ("__dict__", "backend", "saved")

    output_backend = None

    def __init__(self, backend):
        self.backend = backend
        self.saved = ()

    def save_for_backward(self, *values):
        self.saved = values


def _targets(slots, multiple):
    names = ", ".join(f"v{s}" for s in slots)
    return names + "," if multiple and len(slots) == 1 else names


def _source(arg, name, namespace):
    """Source text for an argument: a slot's variable, or a name bound to the value."""
    if isinstance(arg, Ref):
        return f"v{arg.slot}"
    if isinstance(arg, (tuple, list)) and any(isinstance(a, (Ref, tuple, list)) for a in arg):
        items = [_source(a, f"{name}_{i}", namespace) for i, a in enumerate(arg)]
        text = ", ".join(items) + ("," if len(items) == 1 else "")
        return f"({text})" if isinstance(arg, tuple) else f"[{text}]"
    namespace[name] = arg
    return name


def _output_source(output):
    if isinstance(output, (tuple, list)):
        items = [_output_source(o) for o in output]
        text = ", ".join(items) + ("," if len(items) == 1 and isinstance(output, tuple) else "")
        return f"({text})" if isinstance(output, tuple) else f"[{text}]"
    return f"Tensor(v{output.slot}, backend)"


def graph_replay(traced, program, inputs, check=None):
    """Run `program` through the ops' `Function.apply` on Tensors, recording a graph.
    `check(instruction, results)`, if given, sees each instruction's result Tensors."""
    backend = traced.backend
    values = [None] * len(program.slots)
    for slot, tensor in zip(program.inputs, inputs):
        values[slot] = tensor
    for slot, tensor in zip(program.parameters, traced.parameters):
        values[slot] = tensor
    for slot, tensor in zip(program.constants, traced.constants):
        values[slot] = tensor

    def resolve(arg):
        if isinstance(arg, Ref):
            value = values[arg.slot]
            return value.data if arg.as_array else value
        if isinstance(arg, (tuple, list)):
            return type(arg)(resolve(a) for a in arg)
        return arg

    for instruction in program.live_instructions():
        args = [resolve(a) for a in instruction.args]
        if instruction.fn is not None:
            result = instruction.fn.apply(*args)
        elif instruction.op == DETACH:
            result = args[0].detach()
        else:
            result = primitive_op(backend, instruction.op, *args)
        results = result if instruction.multiple else (result,)
        if check is not None:
            check(instruction, results)
        for slot, tensor in zip(instruction.outputs, results):
            values[slot] = tensor

    def build(output):
        if isinstance(output, Ref):
            return values[output.slot]
        return type(output)(build(o) for o in output)

    return build(program.output)

