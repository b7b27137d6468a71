"""Saving is atomic and safe from several threads at once; loading refuses corrupted
checkpoints, absurd metadata and silently converted integer weights."""

import os
import threading

import numpy as np
import pytest
import safetensors.numpy

import autograd as ag
import autograd.jit as jit
import nn


def _model(seed):
    ag.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 8), nn.ReLU(), nn.Linear(8, 2))


def test_four_threads_saving_to_one_path_always_leave_a_complete_checkpoint(tmp_path):
    path = tmp_path / "model.safetensors"
    models = [_model(seed) for seed in range(4)]
    expected = [{k: v.numpy() for k, v in m.state_dict().items()} for m in models]
    nn.save(models[0], path)
    errors, loads, writing = [], [0], threading.Event()

    def save_many(model):
        try:
            for _ in range(100):
                nn.save(model, path)
        except Exception as error:  # collected and reported by the assertion below
            errors.append(error)

    def load_while_saving():
        while writing.is_set():
            state = nn.load(path)
            loads[0] += 1
            assert any(all(np.array_equal(state[k].numpy(), e[k]) for k in e)
                       for e in expected)

    writers = [threading.Thread(target=save_many, args=(m,)) for m in models]
    writing.set()
    reader = threading.Thread(target=load_while_saving)
    reader.start()
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join(timeout=300)
    writing.clear()
    reader.join(timeout=300)
    assert errors == []
    assert loads[0] > 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.safetensors"]
    state = nn.load(path)
    assert any(all(np.array_equal(state[k].numpy(), e[k]) for k in e) for e in expected)


def _traced():
    model = _model(0)
    return jit.trace(model, ag.zeros(4, 3))


def test_a_failed_jit_save_leaves_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "model.pgp"

    def full_disk(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full_disk)
    with pytest.raises(OSError, match="No space left"):
        _traced().save(path)
    assert list(tmp_path.iterdir()) == []


def test_a_failed_nn_save_leaves_the_old_checkpoint_and_no_partial_file(tmp_path,
                                                                       monkeypatch):
    path = tmp_path / "model.safetensors"
    nn.save(_model(0), path)
    before = path.read_bytes()

    def failing_fsync(descriptor):
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(os, "fsync", failing_fsync)
    with pytest.raises(OSError, match="Input/output error"):
        nn.save(_model(1), path)
    assert list(tmp_path.iterdir()) == [path]
    assert path.read_bytes() == before


def test_the_file_keeps_the_usual_permissions(tmp_path):
    path = tmp_path / "model.safetensors"
    nn.save(_model(0), path)
    reference = tmp_path / "plain"
    reference.write_bytes(b"")
    assert path.stat().st_mode == reference.stat().st_mode


def test_a_flipped_byte_in_a_checkpoint_is_refused(tmp_path):
    path = tmp_path / "model.safetensors"
    nn.save(_model(0), path)
    data = path.read_bytes()
    header_end = 8 + int.from_bytes(data[:8], "little")
    for position in (header_end + 3, len(data) - 1, header_end - 20):
        changed = bytearray(data)
        changed[position] ^= 0x04
        path.write_bytes(bytes(changed))
        with pytest.raises(ValueError, match="nn.load") as caught:
            nn.load(path)
        assert str(path) in str(caught.value)
    path.write_bytes(data)
    assert set(nn.load(path)) == {"0.weight", "0.bias", "2.weight", "2.bias"}


def test_a_checkpoint_stays_a_plain_safetensors_file(tmp_path):
    torch = pytest.importorskip("torch")
    path = tmp_path / "model.safetensors"
    model = _model(0)
    nn.save(model, path)
    arrays = safetensors.numpy.load_file(str(path))
    np.testing.assert_array_equal(arrays["0.weight"], model[0].weight.numpy())
    reference = torch.nn.Sequential(torch.nn.Linear(3, 8), torch.nn.ReLU(),
                                    torch.nn.Linear(8, 2))
    from safetensors.torch import load_file

    reference.load_state_dict(load_file(str(path)))


def test_metadata_nested_beyond_reason_raises_the_documented_value_error(tmp_path):
    path = tmp_path / "deep.safetensors"
    layout = '{"list": [' * 100_000 + "]}" * 100_000
    safetensors.numpy.save_file({"w": np.zeros(2)}, str(path),
                                metadata={"pluggrad.layout": layout})
    with pytest.raises(ValueError, match="damaged") as caught:
        nn.load(path)
    assert str(path) in str(caught.value)
    data = safetensors.numpy.save({"w": np.zeros(2)},
                                  {"pluggrad.layout": '{"list": [' * 900 + "]}" * 900})
    path.write_bytes(data)
    with pytest.raises(ValueError, match="damaged"):
        nn.load(path)


@pytest.mark.parametrize("dtype", ["int64", "bool"])
def test_integer_or_bool_tensors_are_not_loaded_into_float_parameters(dtype):
    model = _model(0)
    state = model.state_dict()
    state["0.bias"] = ag.zeros(8, dtype=dtype)
    with pytest.raises(ValueError, match=rf"0\.bias \(given {dtype}, model float32\)") as caught:
        model.load_state_dict(state)
    assert "astype" in str(caught.value)
    state["0.bias"] = state["0.bias"].astype("float32")  # an explicit cast is accepted
    model.load_state_dict(state)
    assert np.array_equal(model[0].bias.numpy(), np.zeros(8, dtype=np.float32))


def test_the_safe_write_helper_replaces_the_file_whole(tmp_path):
    from autograd import files

    path = tmp_path / "data.bin"
    files.write_atomically(path, b"first")
    files.write_atomically(path, b"second, longer")
    assert path.read_bytes() == b"second, longer"
    assert [p.name for p in tmp_path.iterdir()] == ["data.bin"]
    with pytest.raises(ValueError, match="malformed checksum"):
        files.verify(b"\x00" * 8, {})
