"""Saving a traced program to one safetensors file and loading it back: in a fresh process
that never sees the model's code, on a named backend, and never from a changed file."""

import hashlib
import json
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import safetensors.numpy

import autograd as ag
import autograd.jit as jit


class TwoLayerModel:
    """A model class that only this test module defines."""

    def __init__(self):
        rng = np.random.default_rng(0)
        self.w1 = ag.tensor(rng.normal(size=(8, 2)).astype(np.float32), requires_grad=True)
        self.b1 = ag.tensor(rng.normal(size=8).astype(np.float32), requires_grad=True)
        self.w2 = ag.tensor(rng.normal(size=(1, 8)).astype(np.float32), requires_grad=True)
        self.scale = np.array([2.0], dtype=np.float32)

    def __call__(self, x):
        h = ag.where(x @ self.w1.T + self.b1 > 0, (x @ self.w1.T + self.b1).tanh(), 0.0)
        return (h @ self.w2.T) * self.scale, h.sum(axis=1)


@pytest.fixture
def saved(tmp_path):
    model = TwoLayerModel()
    traced = jit.trace(model, ag.tensor(np.zeros((4, 2), dtype=np.float32)))
    path = tmp_path / "model.safetensors"
    traced.save(path)
    return traced, path


def test_a_loaded_program_equals_the_saved_one(saved, backend):
    traced, path = saved
    loaded = jit.load(path)
    assert loaded.program == traced.program
    assert loaded.backend.name == backend
    assert [p.requires_grad for p in loaded.parameters] == [True, True, True]
    x = ag.tensor(np.random.default_rng(1).normal(size=(4, 2)).astype(np.float32))
    with ag.no_grad():
        for got, want in zip(loaded(x), traced(x.to("numpy"))):
            assert got.backend.name == backend
            np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6)
    loss = loaded(x)[0].sum()
    loss.backward()
    assert loaded.parameters[0].grad.shape == (8, 2)


def test_a_program_runs_in_a_fresh_process_without_the_model_class(saved, tmp_path):
    traced, path = saved
    x = np.random.default_rng(2).normal(size=(4, 2)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    script = textwrap.dedent(f"""
        import sys
        import numpy as np
        import autograd as ag
        import autograd.jit as jit
        program = jit.load({str(path)!r})
        with ag.no_grad():
            outputs = program(ag.from_numpy(np.load({str(tmp_path / "x.npy")!r})))
        np.savez({str(tmp_path / "out.npz")!r}, *[t.numpy() for t in outputs])
        assert not any("test_jit" in name for name in sys.modules), "model code was imported"
    """)
    subprocess.run([sys.executable, "-c", script], check=True, cwd=tmp_path)
    with ag.no_grad():
        expected = traced(ag.from_numpy(x))
    results = np.load(tmp_path / "out.npz")
    for i, want in enumerate(expected):
        np.testing.assert_array_equal(results[f"arr_{i}"], want.numpy())


def test_a_changed_byte_anywhere_is_detected(saved):
    _, path = saved
    data = path.read_bytes()
    header_end = 8 + int.from_bytes(data[:8], "little")
    positions = [0, 3, 20, header_end // 2, header_end - 2, header_end + 1, len(data) - 1]
    for position in positions:
        changed = bytearray(data)
        changed[position] ^= 0x01
        path.write_bytes(bytes(changed))
        with pytest.raises(ValueError, match="jit.load"):
            jit.load(path)
    path.write_bytes(data)
    jit.load(path)


def test_truncated_and_foreign_files_raise_clear_errors(saved, tmp_path):
    _, path = saved
    data = path.read_bytes()
    for length in (0, 5, 40, len(data) - 3):
        path.write_bytes(data[:length])
        with pytest.raises(ValueError, match="truncated|changed"):
            jit.load(path)
    other = tmp_path / "weights.safetensors"
    safetensors.numpy.save_file({"w": np.zeros(3, dtype=np.float32)}, other)
    with pytest.raises(ValueError, match="not a saved pluggrad program"):
        jit.load(other)


def _rewrite_program(path, edit):
    """Change the program in a saved file and write a correct checksum, as a forger would."""
    data = path.read_bytes()
    header_end = 8 + int.from_bytes(data[:8], "little")
    metadata = json.loads(data[8:header_end])["__metadata__"]
    program = json.loads(metadata["pluggrad.program"])
    edit(program)
    metadata["pluggrad.program"] = json.dumps(program)
    metadata["pluggrad.sha256"] = "0" * 64
    forged = safetensors.numpy.save(safetensors.numpy.load(data), metadata)
    digest = hashlib.sha256(forged).hexdigest().encode()
    path.write_bytes(forged.replace(b'"' + b"0" * 64 + b'"', b'"' + digest + b'"'))


def test_loading_runs_only_ops_of_the_fixed_table(saved):
    _, path = saved
    original = path.read_bytes()
    forgeries = {
        "unknown op 'system'": lambda p: p["instructions"][0].__setitem__(0, "system"),
        "unknown op '__import__'": lambda p: p["instructions"][1].__setitem__(0, "__import__"),
        "reference to slot 999": lambda p: p["instructions"][1][1].__setitem__(
            0, {"slot": 999}),
        "argument form 'code'": lambda p: p["instructions"][0][1].append({"code": "1"}),
        "version 2": lambda p: p.__setitem__("version", 2),
    }
    for message, edit in forgeries.items():
        path.write_bytes(original)
        _rewrite_program(path, edit)
        with pytest.raises(ValueError, match=message):
            jit.load(path)
    path.write_bytes(original)
    _rewrite_program(path, lambda p: None)
    jit.load(path)


def test_only_builtin_ops_can_be_saved(tmp_path):
    class Cube(ag.Function):
        @staticmethod
        def forward(ctx, a):
            return ctx.backend.mul(a, ctx.backend.mul(a, a))

        @staticmethod
        def backward(ctx, grad):
            raise NotImplementedError

    traced = jit.trace(lambda x: Cube.apply(x) + 1, ag.tensor([1.0, 2.0]))
    assert np.array_equal(traced(ag.tensor([2.0, 3.0])).numpy(), [9.0, 28.0])
    with pytest.raises(ValueError, match="'Cube', which is not one of autograd's built-in"):
        traced.save(tmp_path / "cube.safetensors")
    assert not (tmp_path / "cube.safetensors").exists()


def test_a_classifier_loss_saves_and_trains_after_loading(tmp_path, backend):
    import nn

    rng = np.random.default_rng(1)
    x = ag.tensor(rng.normal(size=(6, 4)).astype(np.float32))
    labels = ag.tensor(np.array([0, 2, 1, 2, 0, 1]))
    weight = ag.tensor(rng.normal(size=(3, 4)).astype(np.float32), requires_grad=True)

    def loss(x, labels):
        return nn.functional.cross_entropy(x @ weight.T, labels, label_smoothing=0.1)

    path = tmp_path / "loss.safetensors"
    jit.trace(loss, x, labels).save(path)
    loaded = jit.load(path)
    expected = loss(x, labels)
    expected.backward()
    expected_grad = weight.grad.numpy()
    weight.grad = None
    result = loaded(x, labels)
    np.testing.assert_allclose(result.numpy(), expected.numpy(), rtol=1e-6)
    result.backward()
    (trained,) = [p for p in loaded.parameters if p.grad is not None]
    np.testing.assert_allclose(trained.grad.numpy(), expected_grad, rtol=1e-5)
