"""Saving a traced program to one safetensors file, and loading it back.

The weights (parameters and constants) are the file's tensors; the program is JSON in the
header's metadata, with a SHA-256 checksum of the whole file (computed with the checksum's
own place filled with zeros), so a changed byte anywhere is detected. Loading runs no code
from the file: every op name is looked up in the fixed table of autograd ops, every
argument is decoded from a closed set of JSON forms, and anything else is rejected.
"""

import json

import safetensors.numpy

import backends

from .. import files
from ..tensor import Tensor
from . import validation
from .dynamic import BATCH
from .ops import FUNCTIONS, builtin
from .program import CONSTANT, INPUT, PARAMETER, RESULT, Instruction, Program, Ref
from .traced import Traced

FORMAT = "pluggrad.program"
VERSION = 1
_PROGRAM_KEY = "pluggrad.program"
_DTYPES = ("float16", "float32", "float64", "int32", "int64", "bool")


class ProgramFileError(ValueError):
    """A file that is not a valid saved program: malformed, truncated or changed."""


# ------------------------------------------------------------------------------ saving
def save(traced, path):
    program = traced.program
    for position, instruction in enumerate(program.instructions):
        if not builtin(instruction.op, instruction.fn):
            raise ValueError(
                f"jit save: instruction {position} ({instruction!r}) uses the op "
                f"{instruction.op!r}, which is not one of autograd's built-in ops; only "
                f"those can be saved, since loading never runs code from a file")
    # Host copies, C-contiguous as safetensors needs.
    weights = {_weight_name(program, slot): tensor.numpy().copy()
               for slot, tensor in zip(program.parameters + program.constants,
                                       traced.parameters + traced.constants)}
    text = json.dumps(program_to_json(program), separators=(",", ":"))
    data = safetensors.numpy.save(weights, {_PROGRAM_KEY: text,
                                            files.CHECKSUM_KEY: files.CHECKSUM_PLACEHOLDER})
    files.write_atomically(path, files.seal(data))


def _weight_name(program, slot):
    info = program.slots[slot]
    return f"{info.kind}s/{info.name}"


def program_to_json(program):
    return {
        "format": FORMAT, "version": VERSION, "name": program.name,
        "slots": [[s.kind, list(s.shape), s.dtype, s.name] for s in program.slots],
        "instructions": [[i.op, [_encode(a) for a in i.args], list(i.outputs), i.multiple]
                         for i in program.instructions],
        "output": _encode(program.output),
    }


def _encode(value):
    if isinstance(value, Ref):
        return {"array" if value.as_array else "slot": value.slot}
    if value is None or type(value) in (bool, int, float):
        return value
    if isinstance(value, str):
        return str(value)
    if isinstance(value, tuple):
        return {"tuple": [_encode(v) for v in value]}
    if isinstance(value, list):
        return {"list": [_encode(v) for v in value]}
    if isinstance(value, slice):
        return {"slice": [_encode(value.start), _encode(value.stop), _encode(value.step)]}
    if value is Ellipsis:
        return {"ellipsis": None}
    if value is BATCH:
        return {"batch": None}
    raise ValueError(f"jit save: cannot store an op argument of type {type(value).__name__} "
                     f"({value!r})")


# ------------------------------------------------------------------------------ loading
def load(path, backend=None):
    """A runnable `Traced` from a file written by `Traced.save`, on the default backend or
    the one named. Raises ProgramFileError (a ValueError) for a file that is malformed,
    truncated or changed since it was saved, and for a program that declares a slot of
    absurd size or whose ops, run once on stand-in inputs, do not give each slot its
    declared shape and dtype (see `validation`)."""
    with open(path, "rb") as file:
        data = file.read()
    metadata = _verified_metadata(data, path)
    try:
        program = program_from_json(json.loads(metadata[_PROGRAM_KEY]))
        validation.check_slot_sizes(program)
    except (ValueError, TypeError, KeyError, IndexError, RecursionError) as error:
        raise ProgramFileError(f"jit.load: {path} holds a malformed program: {error}") from None
    try:
        arrays = safetensors.numpy.load(data)
    except Exception as error:  # safetensors raises its own error types; name the file
        raise ProgramFileError(f"jit.load: {path} is not a readable safetensors file: "
                               f"{error}") from None
    target = backends.current() if backend is None else backends.get(backend)
    values = {}
    for slot in program.parameters + program.constants:
        name = _weight_name(program, slot)
        info = program.slots[slot]
        array = arrays.get(name)
        if array is None or tuple(array.shape) != info.shape or array.dtype.name != info.dtype:
            raise ProgramFileError(f"jit.load: {path} lacks the weight {name!r} "
                                   f"({info.describe()}) its program uses")
        values[slot] = Tensor(target.from_numpy(array.copy()), target,
                              requires_grad=info.kind == PARAMETER)
    traced = Traced(program, target, [values[s] for s in program.parameters],
                    [values[s] for s in program.constants])
    try:
        validation.check_against_ops(traced)
    except Exception as error:  # whatever an op raises on a forged program: refuse the file
        raise ProgramFileError(f"jit.load: {path} holds a program whose ops do not produce "
                               f"what it declares: {type(error).__name__}: {error}") from error
    return traced


def _verified_metadata(data, path):
    """The header metadata of a saved program, after checking the file's checksum."""
    try:
        metadata = files.read_metadata(data)
    except ValueError as error:
        raise ProgramFileError(f"jit.load: {path} {error}") from None
    if _PROGRAM_KEY not in metadata or files.CHECKSUM_KEY not in metadata:
        raise ProgramFileError(f"jit.load: {path} is not a saved pluggrad program (its "
                               f"header has no program and checksum)")
    try:
        files.verify(data, metadata)
    except ValueError as error:
        raise ProgramFileError(f"jit.load: {path} {error}") from None
    return metadata


def program_from_json(document):
    """A Program from its JSON form, checking every part; ValueError names what is wrong."""
    _expect(isinstance(document, dict) and document.get("format") == FORMAT,
            "not a program document")
    _expect(document.get("version") == VERSION,
            f"version {document.get('version')!r} (this autograd reads version {VERSION})")
    program = Program(_expect_type(document["name"], str, "name"))
    for entry in _expect_type(document["slots"], list, "slots"):
        kind, shape, dtype, name = _expect_type(entry, list, "slot")
        _expect(kind in (INPUT, PARAMETER, CONSTANT, RESULT), f"slot kind {kind!r}")
        _expect(isinstance(shape, list) and all(
            type(n) is int and n >= 0 or n is None and i == 0 and kind in (INPUT, RESULT)
            for i, n in enumerate(shape)), f"slot shape {shape!r}")
        _expect(isinstance(dtype, str) and dtype in _DTYPES,
                f"slot dtype {dtype!r}")
        _expect(name is None or isinstance(name, str), f"slot name {name!r}")
        program.add_slot(kind, shape, dtype, name)
    defined = set(program.inputs + program.parameters + program.constants)
    for entry in _expect_type(document["instructions"], list, "instructions"):
        op, args, outputs, multiple = _expect_type(entry, list, "instruction")
        _expect(isinstance(op, str), f"op {op!r}")
        fn = FUNCTIONS.get(op)
        _expect(builtin(op, fn), f"unknown op {op!r}: only autograd's built-in ops load")
        args = tuple(_decode(a, defined) for a in _expect_type(args, list, "arguments"))
        _expect(isinstance(outputs, list) and outputs, f"outputs {outputs!r}")
        for slot in outputs:
            _expect(type(slot) is int and 0 <= slot < len(program.slots)
                    and program.slots[slot].kind == RESULT and slot not in defined,
                    f"output slot {slot!r} of {op}")
            defined.add(slot)
        _expect(isinstance(multiple, bool), f"flag {multiple!r}")
        program.instructions.append(Instruction(op, fn, args, outputs, multiple))
    program.output = _decode(document["output"], defined)
    _expect(_only_refs(program.output), f"output {program.output!r}")
    return program


def _only_refs(output):
    if isinstance(output, (tuple, list)):
        return all(_only_refs(o) for o in output)
    return isinstance(output, Ref) and not output.as_array


def _decode(value, defined):
    if value is None or type(value) in (bool, int, float, str):
        return value
    _expect(isinstance(value, dict) and len(value) == 1, f"argument {value!r}")
    (form, content), = value.items()
    if form in ("slot", "array"):
        _expect(type(content) is int and content in defined,
                f"reference to slot {content!r} before it is computed")
        return Ref(content, as_array=form == "array")
    if form in ("tuple", "list"):
        items = [_decode(v, defined) for v in _expect_type(content, list, form)]
        return tuple(items) if form == "tuple" else items
    if form == "slice":
        _expect(isinstance(content, list) and len(content) == 3 and all(
            v is None or type(v) is int for v in content), f"slice {content!r}")
        return slice(*content)
    if form == "batch":
        return BATCH
    _expect(form == "ellipsis", f"argument form {form!r}")
    return Ellipsis


def _expect(condition, what):
    if not condition:
        raise ValueError(f"bad {what}")


def _expect_type(value, kind, what):
    _expect(isinstance(value, kind), f"{what} {value!r}")
    return value
