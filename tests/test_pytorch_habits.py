"""The README's table "Coming from PyTorch", run: each PyTorch spelling either gives what
the pluggrad spelling next to it gives, or raises an error that names it. The table is read
from README.md itself, so the two cannot drift apart.

A cell starting with `@` is a decorator and one starting with `with` a context manager: both
are checked by what `ag.is_grad_enabled()` says under them."""

import importlib.metadata
import re
import warnings
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn

README = Path(__file__).resolve().parent.parent / "README.md"
# Habits the issue asks for: deleting one of these rows from the README fails the test.
REQUIRED = ["x.size()", "x.size(1)", "x.numel()", "x.sum(dim=1, keepdim=True)", "x.view(3, 2)",
            "x.float()", "x.long()", "x.device", "x.cpu()", "ag.cat([x, x], dim=0)",
            "@ag.no_grad", "with ag.inference_mode():", "ag.__version__",
            "nn.data.DataLoader(data, batch_size=2, num_workers=0)"]


def _table_rows():
    text = README.read_text()
    section = text.split("## Coming from PyTorch", 1)[1].split("\n## ", 1)[0]
    rows = []
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        spans = [re.match(r"`(.+?)`", cell) for cell in cells[:2]]
        if line.startswith("|") and all(spans):
            rows.append((spans[0].group(1), spans[1].group(1)))
    return rows


ROWS = _table_rows()


def _namespace():
    return {"ag": ag, "nn": nn, "importlib": importlib,
            "x": ag.tensor([[1.0, 5.0, 3.0], [4.0, 2.0, 6.0]]),
            "data": nn.data.TensorDataset(ag.arange(5.0))}


def _run(code):
    namespace = _namespace()
    if code.startswith("@"):
        return eval(code[1:], namespace)(ag.is_grad_enabled)()
    if code.startswith("with ") and code.endswith(":"):
        with eval(code[5:-1], namespace):
            return ag.is_grad_enabled()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return eval(code, namespace)


def _value(result):
    """Something == can compare: arrays with their dtype, loaders as their batches."""
    if isinstance(result, ag.Tensor):
        return ("tensor", result.shape, str(result.dtype), result.numpy().tolist())
    if isinstance(result, nn.data.DataLoader):
        return [_value(batch) for batch in result]
    if isinstance(result, tuple | list):
        return [_value(item) for item in result]
    return result


def _pyproject_version():
    found = re.search(r'^version\s*=\s*"([^"]+)"', (README.parent / "pyproject.toml").read_text(),
                      re.MULTILINE)
    return found.group(1)


def test_the_table_lists_every_habit_the_project_promises():
    assert set(REQUIRED) <= {habit for habit, _ in ROWS}


@pytest.mark.parametrize(("habit", "pluggrad"), ROWS, ids=[habit for habit, _ in ROWS])
def test_a_pytorch_spelling_works_or_names_the_pluggrad_one(habit, pluggrad):
    try:
        expected = _run(pluggrad)
    except importlib.metadata.PackageNotFoundError:  # a checkout that was never installed
        expected = _pyproject_version()
    try:
        got = _run(habit)
    except Exception as error:  # the contract: the error names the pluggrad spelling
        assert pluggrad in str(error), f"{habit} raised {error!r} without naming {pluggrad}"
        return
    assert _value(got) == _value(expected)


def test_max_with_dim_gives_values_and_indices_like_pytorch():
    x = _namespace()["x"]
    result = x.max(dim=1)
    assert result.values.tolist() == [5.0, 6.0] and result.indices.tolist() == [1, 2]
    assert x.max(axis=1).tolist() == [5.0, 6.0]


def test_size_stays_the_element_count_and_answers_pytorchs_calls():
    x = _namespace()["x"]
    assert x.size == 6 and x.size * 2 == 12 and isinstance(x.size, int)
    assert x.size(-1) == 3
    with pytest.raises(ValueError, match="out of range"):
        x.size(2)


@pytest.mark.parametrize("op", ["sum", "mean", "max", "min", "var", "std", "logsumexp"])
def test_every_reduction_takes_dim_and_keepdim_as_method_and_function(op):
    x = _namespace()["x"]
    method = getattr(x, op)(dim=0, keepdim=True)
    function = getattr(ag, op)(x, dim=0, keepdim=True)
    expected = getattr(x, op)(axis=0, keepdims=True)
    for got in (method, function):
        got = got.values if isinstance(got, tuple) else got
        np.testing.assert_allclose(got.numpy(), expected.numpy())


def test_reductions_refuse_both_names_and_unknown_ones_naming_the_pluggrad_argument():
    x = _namespace()["x"]
    with pytest.raises(TypeError, match="both axis=0 and dim=1"):
        x.sum(axis=0, dim=1)
    with pytest.raises(TypeError, match=r"keepdim= \(pluggrad: keepdims=\)"):
        x.mean(keepdims_=True)
    with pytest.raises(TypeError, match="softmax: unexpected keyword argument"):
        x.softmax(dim=1, keepdim=True)


def test_dim_names_flow_through_the_graph():
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True, dtype="float64")
    assert ag.gradcheck(lambda t: t.log_softmax(dim=0).sum(dim=1), [x])
    assert ag.gradcheck(lambda t: ag.cat([t, t * 2], dim=1).std(dim=1, correction=1), [x])


def test_no_grad_rejects_a_non_callable_argument_by_name():
    with pytest.raises(TypeError, match=r"no_grad: takes no argument"):
        ag.no_grad(3)


def test_inference_mode_false_leaves_recording_as_it_is():
    with ag.inference_mode(False):
        assert ag.is_grad_enabled()
    with ag.no_grad(), ag.inference_mode(False):
        assert not ag.is_grad_enabled()


def test_dataloader_ignores_worker_processes_with_a_warning_and_refuses_negative_ones():
    data = _namespace()["data"]
    with pytest.warns(RuntimeWarning, match="num_workers=4 is ignored"):
        loader = nn.data.DataLoader(data, batch_size=2, num_workers=4)
    assert len(list(loader)) == 3
    with pytest.raises(ValueError, match="non-negative"):
        nn.data.DataLoader(data, num_workers=-1)
