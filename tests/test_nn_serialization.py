"""nn.save / nn.load: bit-identical round trips, optimiser state, and refusing what is not a
well-formed safetensors file, without ever running code from it."""

import pickle

import numpy as np
import pytest

import autograd as ag
import backends
import nn


def _model(seed):
    ag.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))


def test_module_round_trip_is_bit_identical(backend, tmp_path):
    path = tmp_path / "model.safetensors"
    model = _model(0)
    x = ag.randn(16, 3)
    nn.save(model, path)
    assert list(tmp_path.iterdir()) == [path]
    loaded = nn.load(path)
    assert list(loaded) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert all(t.backend.name == backend and t.dtype == "float32" for t in loaded.values())
    fresh = _model(1)
    assert not np.array_equal(fresh(x).numpy(), model(x).numpy())
    fresh.load_state_dict(loaded)
    np.testing.assert_array_equal(fresh(x).numpy(), model(x).numpy())


def test_load_onto_a_named_backend_and_keep_float64(backend, tmp_path):
    path = tmp_path / "model.safetensors"
    with backends.use("numpy"):
        model = _model(0).to("float64")
        nn.save(model.state_dict(), path)
    loaded = nn.load(path, backend=backend)
    for key, value in model.state_dict().items():
        assert loaded[key].backend.name == backend and loaded[key].dtype == "float64"
        np.testing.assert_array_equal(loaded[key].numpy(), value.numpy())


def test_nested_state_and_plain_data_round_trip(tmp_path):
    path = tmp_path / "state.safetensors"
    weight = ag.tensor(np.arange(12.0).reshape(3, 4))
    state = {"model": {"w": weight, "wt": weight.T}, "step": 7, "betas": (0.9, 0.999),
             "groups": [{"lr": 0.1, "params": [0, 1]}], 3: None, "flag": True, "name": "x",
             "mask": ag.tensor([True, False])}
    nn.save(state, path)
    loaded = nn.load(path)
    assert list(loaded) == list(state)
    assert loaded["step"] == 7 and loaded["betas"] == (0.9, 0.999)
    assert loaded["groups"] == [{"lr": 0.1, "params": [0, 1]}]
    assert loaded[3] is None and loaded["flag"] is True and loaded["name"] == "x"
    np.testing.assert_array_equal(loaded["model"]["w"].numpy(), weight.numpy())
    # A transposed view is stored in its logical order, not its memory order.
    np.testing.assert_array_equal(loaded["model"]["wt"].numpy(), weight.numpy().T)
    np.testing.assert_array_equal(loaded["mask"].numpy(), [True, False])


def test_save_refuses_what_it_cannot_store(tmp_path):
    with pytest.raises(TypeError, match="set"):
        nn.save({"a": {1, 2}}, tmp_path / "x.safetensors")
    with pytest.raises(TypeError, match="Module, an optimiser or a state dict"):
        nn.save([ag.zeros(1)], tmp_path / "x.safetensors")
    with pytest.raises(ValueError, match="'a.b'"):
        nn.save({"a.b": ag.zeros(1), "a": {"b": ag.zeros(1)}}, tmp_path / "x.safetensors")
    assert not (tmp_path / "x.safetensors").exists()


class _CreatesAFile:
    """A pickle payload: unpickling it calls open(marker, "w"), creating the file."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_a_pickle_is_refused_without_running_its_code(tmp_path):
    marker = tmp_path / "payload_ran"
    path = tmp_path / "model.pt"
    with open(path, "wb") as f:
        pickle.dump({"weight": _CreatesAFile(marker)}, f)
    with pytest.raises(ValueError, match="pickle") as caught:
        nn.load(path)
    assert str(path) in str(caught.value)
    assert not marker.exists()
    # The payload is live: unpickling the same file does create the marker.
    with open(path, "rb") as f:
        pickle.load(f)
    assert marker.exists()


def test_a_truncated_file_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    nn.save(_model(0), path)
    data = path.read_bytes()
    path.write_bytes(data[:-10])
    with pytest.raises(ValueError, match="not a valid safetensors file") as caught:
        nn.load(path)
    assert str(path) in str(caught.value)
    path.write_bytes(data[:5])
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        nn.load(path)


def test_a_wrong_header_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    nn.save(_model(0), path)
    data = bytearray(path.read_bytes())
    header_length = int.from_bytes(data[:8], "little")
    broken = bytes(data[:8]) + b"[" + bytes(data[9:])   # the JSON header no longer parses
    path.write_bytes(broken)
    with pytest.raises(ValueError, match="not a valid safetensors file") as caught:
        nn.load(path)
    assert str(path) in str(caught.value)
    path.write_bytes((header_length + 10 ** 6).to_bytes(8, "little") + bytes(data[8:]))
    with pytest.raises(ValueError, match="not a valid safetensors file"):
        nn.load(path)


def test_a_damaged_layout_entry_is_refused(tmp_path):
    import safetensors.numpy

    path = tmp_path / "state.safetensors"
    safetensors.numpy.save_file({"w": np.zeros(2)}, str(path),
                                metadata={"pluggrad.layout": '{"dict": [["w", {"tensor": '
                                                             '"missing"}]]}'})
    with pytest.raises(ValueError, match="damaged") as caught:
        nn.load(path)
    assert str(path) in str(caught.value)


def test_a_state_dict_of_the_wrong_shape_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    nn.save(nn.Sequential(nn.Linear(3, 9), nn.ReLU(), nn.Linear(9, 2)), path)
    with pytest.raises(ValueError, match=r"0.weight \(given \(9, 3\), model \(8, 3\)\)"):
        _model(0).load_state_dict(nn.load(path))


def test_a_foreign_safetensors_file_loads_as_a_flat_dict(tmp_path):
    import safetensors.numpy

    path = tmp_path / "foreign.safetensors"
    safetensors.numpy.save_file({"a": np.arange(3, dtype=np.float32)}, str(path),
                                metadata={"format": "pt"})
    loaded = nn.load(path)
    assert list(loaded) == ["a"]
    np.testing.assert_array_equal(loaded["a"].numpy(), [0, 1, 2])


def test_a_saved_state_dict_loads_into_the_matching_torch_module(tmp_path):
    torch = pytest.importorskip("torch", reason="PyTorch is not installed")
    import safetensors.torch

    path = tmp_path / "model.safetensors"
    model = _model(0)
    nn.save(model, path)
    reference = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(),
                                     torch.nn.Linear(8, 2))
    reference.load_state_dict(safetensors.torch.load_file(str(path)), strict=True)
    x = np.random.default_rng(0).normal(size=(5, 3)).astype(np.float32)
    with torch.no_grad():
        expected = reference(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(model(ag.tensor(x)).numpy(), expected, rtol=1e-5, atol=1e-6)
