"""autograd.jit.export_onnx: a traced forward runs in onnxruntime with pluggrad's outputs."""

import numpy as np
import pytest

import autograd as ag
import autograd.jit as jit

onnx = pytest.importorskip("onnx", reason="the onnx extra is not installed")
ort = pytest.importorskip("onnxruntime", reason="onnxruntime (test extra) is not installed")


def leaf(rng, *shape):
    return ag.tensor(rng.normal(size=shape).astype(np.float32), requires_grad=True)


def run_onnx(path, inputs):
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return session.run(None, {f"input{i}": x for i, x in enumerate(inputs)})


def test_an_mlp_with_every_activation_matches_onnxruntime(tmp_path):
    rng = np.random.default_rng(0)
    w1, b1, w2, b2, w3, b3 = leaf(rng, 16, 4), leaf(rng, 16), leaf(rng, 16, 16), leaf(rng, 16), \
        leaf(rng, 3, 16), leaf(rng, 3)

    def model(x):
        h = (x @ w1.T + b1).relu()
        h = (h @ w2.T + b2).tanh() * (h @ w2.T + b2).sigmoid()
        logits = h @ w3.T + b3
        return logits.softmax(axis=-1), logits.log_softmax(axis=-1), (-logits).exp().sum(
            axis=0) / 2.0

    x = rng.normal(size=(5, 4)).astype(np.float32)
    traced = jit.trace(model, ag.tensor(x))
    jit.export_onnx(traced, tmp_path / "mlp.onnx")
    with ag.no_grad():
        expected = [t.numpy() for t in traced(ag.tensor(x))]
    got = run_onnx(tmp_path / "mlp.onnx", [x])
    assert len(got) == 3
    for g, e in zip(got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-5)


def test_selections_and_shape_ops_export(tmp_path):
    rng = np.random.default_rng(1)

    def fn(x, y):
        leaky = ag.where(x > 0, x, x * 0.01).clip(-1.0, 1.0)
        stacked = ag.stack([leaky, ag.maximum(x, y)], axis=0).reshape(2, -1)
        joined = ag.concat([stacked, ag.minimum(x, 0.5).reshape(1, -1)], axis=0)
        return joined.max(axis=1) - joined.mean(axis=0).sqrt().sum() + x.argmax().astype(
            "float32")

    x = np.abs(rng.normal(size=(3, 4))).astype(np.float32)
    y = rng.normal(size=(3, 4)).astype(np.float32)
    # Stacking along axis 0 moves the batch to axis 1: this program has fixed shapes.
    traced = jit.trace(fn, ag.tensor(x), ag.tensor(y), dynamic_batch=False)
    jit.export_onnx(traced, tmp_path / "fn.onnx")
    (got,) = run_onnx(tmp_path / "fn.onnx", [x, y])
    np.testing.assert_allclose(got, fn(ag.tensor(x), ag.tensor(y)).numpy(), rtol=1e-5,
                               atol=1e-5)


def test_an_nn_model_exports(tmp_path):
    nn = pytest.importorskip("nn")
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(2, 8), nn.Tanh(), nn.Linear(8, 8), nn.ReLU(),
                          nn.Linear(8, 1), nn.Sigmoid())
    x = np.random.default_rng(2).normal(size=(7, 2)).astype(np.float32)
    traced = jit.trace(model, ag.tensor(x))
    jit.export_onnx(traced, tmp_path / "model.onnx")
    (got,) = run_onnx(tmp_path / "model.onnx", [x])
    with ag.no_grad():
        np.testing.assert_allclose(got, model(ag.tensor(x)).numpy(), rtol=1e-5, atol=1e-5)


def test_an_op_without_an_onnx_form_is_named(tmp_path):
    traced = jit.trace(lambda x: x[[0, 2]].erf().log1p() + x.sign()[:2],
                       ag.tensor([1.0, 2.0, 3.0]))
    with pytest.raises(ValueError, match="cannot export the op.*GetItem"):
        jit.export_onnx(traced, tmp_path / "indexing.onnx")
    assert not (tmp_path / "indexing.onnx").exists()
