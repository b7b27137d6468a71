"""Traced programs of any batch size: `trace(..., dynamic_batch=True)` (the default), its
replays at other batch sizes, its checks, saving, and ONNX export with a dynamic batch axis."""

import numpy as np
import pytest

import autograd as ag
import autograd.jit as jit
import nn


def model_and_input(batch, seed=0):
    ag.manual_seed(seed)
    model = nn.Sequential(nn.Linear(12, 16), nn.Tanh(), nn.Linear(16, 3))

    def forward(x):  # (batch, 3, 4) images, flattened per sample
        return model(x.reshape(x.shape[0], -1)).softmax(axis=-1)

    return model, forward, ag.randn(batch, 3, 4)


def test_a_program_traced_at_batch_one_replays_at_every_batch_size(backend):
    model, forward, x = model_and_input(1)
    traced = jit.trace(forward, x)
    assert traced.dynamic_batch
    assert "float32[batch, 3, 4]" in str(traced.program)
    for batch in (1, 5, 7, 256):
        x = ag.randn(batch, 3, 4)
        with ag.no_grad():
            got = traced(x)
        np.testing.assert_allclose(got.numpy(), forward(x).numpy(), rtol=1e-6, atol=1e-7)
        assert got.shape == (batch, 3)
    x = ag.randn(7, 3, 4)
    traced(x).sum().backward()  # with a graph, at another batch size too
    eager = [p.grad.numpy() for p in model.parameters()]
    model.zero_grad()
    forward(x).sum().backward()
    for got, expected in zip(eager, (p.grad.numpy() for p in model.parameters())):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_an_op_that_folds_the_batch_away_is_named():
    x = ag.randn(4, 3)
    with pytest.raises(ValueError, match=r"= Reshape\(%0, shape=\(-1,\)\) has shape \(12,\) "
                                         r"at batch 4 and \(15,\) at batch 5: the op folds the "
                                         r"batch into another dimension"):
        jit.trace(lambda t: t.reshape(-1).tanh(), x)
    with pytest.raises(ValueError, match="dynamic_batch=False"):
        jit.trace(lambda t: t.sum(axis=1) * (1.0 / t.shape[0]), x)
    traced = jit.trace(lambda t: t.reshape(-1).tanh(), x, dynamic_batch=False)
    with pytest.raises(ValueError, match=r"input 0 has shape \(5, 3\)"):
        traced(ag.randn(5, 3))


def test_a_function_that_runs_at_one_batch_size_only_keeps_it_and_says_why():
    w = ag.randn(4, 4, requires_grad=True)
    traced = jit.trace(lambda t: t * w, ag.randn(4, 4))  # the batch is also w's size
    assert not traced.dynamic_batch
    with pytest.raises(ValueError, match=r"the batch is fixed: the function does not run at "
                                         r"batch 5"):
        traced(ag.randn(5, 4))


def test_inputs_of_one_call_share_the_batch_size():
    traced = jit.trace(lambda a, b: a * b, ag.randn(3, 2), ag.randn(3, 2))
    with pytest.raises(ValueError, match="batch sizes 4 and 5"):
        traced(ag.randn(4, 2), ag.randn(5, 2))


def test_a_saved_program_keeps_its_symbolic_batch(tmp_path):
    _, forward, x = model_and_input(2)
    traced = jit.trace(forward, x)
    traced.save(tmp_path / "model.pgp")
    loaded = jit.load(tmp_path / "model.pgp")
    assert loaded.program == traced.program
    x = ag.randn(9, 3, 4)
    with ag.no_grad():
        np.testing.assert_allclose(loaded(x).numpy(), traced(x).numpy(), rtol=1e-6)


def test_onnx_export_has_a_dynamic_batch_axis(tmp_path):
    onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed")
    ort = pytest.importorskip("onnxruntime", reason="onnxruntime is not installed")
    _, forward, x = model_and_input(1)
    traced = jit.trace(forward, x)
    model = jit.export_onnx(traced, tmp_path / "model.onnx")
    dims = model.graph.input[0].type.tensor_type.shape.dim
    assert dims[0].dim_param == "batch" and [d.dim_value for d in dims[1:]] == [3, 4]
    assert onnx.checker.check_model(model) is None
    session = ort.InferenceSession(str(tmp_path / "model.onnx"),
                                   providers=["CPUExecutionProvider"])
    for batch in (1, 7, 256):
        x = ag.randn(batch, 3, 4)
        (got,) = session.run(None, {"input0": x.numpy()})
        assert got.shape == (batch, 3)
        np.testing.assert_allclose(got, forward(x).numpy(), rtol=1e-5, atol=1e-6)
