"""The convolution, pooling, normalisation and embedding layers on their own: buffers, train
and eval modes, shapes, and the errors bad arguments raise (PyTorch agreement is in
test_nn_layers_torch.py)."""

import numpy as np
import pytest

import autograd as ag
import backends
import nn


def test_batchnorm_buffers_are_state_but_not_parameters(backend):
    bn = nn.BatchNorm2d(3)
    assert [name for name, _ in bn.named_parameters()] == ["weight", "bias"]
    assert [name for name, _ in bn.named_buffers()] == ["running_mean", "running_var",
                                                        "num_batches_tracked"]
    assert list(bn.state_dict()) == ["weight", "bias", "running_mean", "running_var",
                                     "num_batches_tracked"]
    assert bn.num_batches_tracked.dtype == "int64"
    model = nn.Sequential(nn.Conv2d(3, 3, 1), bn)
    assert "1.running_var" in model.state_dict()
    model.to("float64")
    assert bn.running_mean.dtype == "float64"
    assert bn.num_batches_tracked.dtype == "int64"


def test_batchnorm_buffers_move_with_the_module():
    state = backends.available()["numba"]
    if state is not True:
        pytest.skip(f"numba: {state}")
    bn = nn.BatchNorm2d(2).to("numba")
    assert {b.backend.name for b in bn.buffers()} == {"numba"}
    bn(ag.randn(3, 2, 2, 2, backend="numba"))
    assert bn.num_batches_tracked.item() == 1
    assert bn.eval()(ag.randn(1, 2, 2, 2, backend="numba")).backend.name == "numba"


def test_batchnorm_running_statistics_follow_pytorch_rule(backend):
    bn = nn.BatchNorm1d(2, momentum=0.5)
    x = ag.tensor([[1.0, 10.0], [3.0, 14.0], [5.0, 12.0]])
    bn(x)
    # mean (3, 12); unbiased variance (4, 4); from (0, 1) halfway.
    np.testing.assert_allclose(bn.running_mean.numpy(), [1.5, 6.0], rtol=1e-6)
    np.testing.assert_allclose(bn.running_var.numpy(), [2.5, 2.5], rtol=1e-6)
    assert bn.num_batches_tracked.item() == 1
    bn.eval()
    out = bn(x)
    expected = (x.numpy() - [1.5, 6.0]) / np.sqrt(np.array([2.5, 2.5]) + 1e-5)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5)
    assert bn.num_batches_tracked.item() == 1, "eval mode must not count batches"
    bn.reset_running_stats()
    np.testing.assert_array_equal(bn.running_var.numpy(), [1.0, 1.0])


def test_batchnorm_without_running_stats_uses_the_batch_in_eval():
    bn = nn.BatchNorm1d(2, track_running_stats=False, affine=False).eval()
    out = bn(ag.tensor([[1.0, 2.0], [3.0, 6.0]]))
    np.testing.assert_allclose(out.numpy(), [[-1, -1], [1, 1]], rtol=1e-4)
    assert bn.state_dict() == {}


def test_buffers_load_and_report_mismatches():
    bn = nn.BatchNorm1d(2)
    state = {k: v + 1 if v.dtype.is_floating else v for k, v in bn.state_dict().items()}
    bn.load_state_dict(state)
    np.testing.assert_array_equal(bn.running_var.numpy(), [2.0, 2.0])
    with pytest.raises(ValueError, match="running_mean"):
        bn.load_state_dict({k: v for k, v in state.items() if k != "running_mean"})
    with pytest.raises(TypeError, match="buffer 'running_mean'"):
        bn.running_mean = [0.0, 0.0]


def test_conv2d_shapes_and_layout():
    conv = nn.Conv2d(4, 8, (3, 2), stride=2, padding=1, groups=2)
    assert tuple(conv.weight.shape) == (8, 2, 3, 2)
    assert tuple(conv(ag.randn(5, 4, 9, 8)).shape) == (5, 8, 5, 5)
    assert tuple(conv(ag.randn(4, 9, 8)).shape) == (8, 5, 5)
    assert tuple(nn.Conv1d(2, 3, 5, padding="same")(ag.randn(1, 2, 7)).shape) == (1, 3, 7)


@pytest.mark.parametrize("call,match", [
    (lambda: ag.conv2d(ag.randn(1, 3, 5, 5), ag.randn(2, 2, 3, 3)), "3 channels"),
    (lambda: ag.conv2d(ag.randn(1, 3, 2, 2), ag.randn(2, 3, 3, 3)), "does not fit"),
    (lambda: ag.conv2d(ag.randn(3, 5), ag.randn(2, 3, 3, 3)), r"\(N, C, H, W\)"),
    (lambda: ag.conv2d(ag.randn(1, 3, 5, 5), ag.randn(2, 3, 3, 3), stride=0), "stride"),
    (lambda: ag.conv2d(ag.randn(1, 3, 5, 5), ag.randn(2, 3, 3, 3), padding="same",
                       stride=2), "stride 1"),
    (lambda: ag.conv2d(ag.randn(1, 3, 5, 5), ag.randn(2, 3, 3, 3), ag.randn(3)), "bias"),
    (lambda: ag.max_pool2d(ag.randn(1, 1, 4, 4), 2, padding=2), "half the kernel"),
    (lambda: ag.fold(ag.randn(1, 4, 5), (3, 3), 2), "output_size"),
    (lambda: ag.pad(ag.randn(2), (1,)), "pairs"),
    (lambda: ag.embedding(ag.tensor([0, 3]), ag.randn(3, 2)), r"\[0, 2\]"),
    (lambda: ag.batch_norm(ag.randn(1, 3), None, None, training=True), "more than one"),
    (lambda: ag.layer_norm(ag.randn(2, 3), 4), "trailing"),
    (lambda: nn.BatchNorm2d(3)(ag.randn(2, 3)), "4-D"),
    (lambda: nn.Unflatten(1, (2, 2))(ag.randn(2, 5)), "cannot be split"),
    (lambda: nn.Conv2d(3, 4, 3, groups=2), "divide by groups"),
])
def test_bad_arguments_raise_clear_errors(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_embedding_rejects_float_indices():
    with pytest.raises(TypeError, match="integers"):
        ag.embedding(ag.tensor([0.0, 1.0]), ag.randn(3, 2))


def test_embedding_padding_row_starts_at_zero_and_gets_no_gradient(backend):
    emb = nn.Embedding(4, 3, padding_idx=-1)
    assert emb.padding_idx == 3
    np.testing.assert_array_equal(emb.weight.numpy()[3], 0.0)
    emb(ag.tensor([[3, 0], [3, 3]])).sum().backward()
    np.testing.assert_array_equal(emb.weight.grad.numpy()[3], 0.0)
    np.testing.assert_array_equal(emb.weight.grad.numpy()[0], 1.0)


def test_dropout_function_scales_kept_units_and_their_gradient(backend):
    ag.manual_seed(0)
    x = ag.ones(2000, requires_grad=True)
    out = ag.dropout(x, 0.25)
    kept = out.numpy() != 0
    assert 0.7 < kept.mean() < 0.8
    np.testing.assert_allclose(out.numpy()[kept], 1 / 0.75, rtol=1e-6)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), out.numpy())
    assert ag.dropout(x, 0.25, training=False) is x


def test_conv_gradient_of_gradient_is_recorded(backend):
    """A gradient penalty through a CNN: d/dw of |d out / d x|^2 exists and is finite."""
    ag.manual_seed(0)
    conv = nn.Conv2d(2, 3, 3, padding=1)
    x = ag.randn(2, 2, 5, 5, requires_grad=True)
    out = ag.max_pool2d(ag.silu(conv(x)), 2).sum()
    (grad_x,) = ag.grad(out, x, create_graph=True)
    (grad_x * grad_x).sum().backward()
    assert conv.weight.grad is not None
    assert np.isfinite(conv.weight.grad.numpy()).all()
    assert np.abs(conv.weight.grad.numpy()).sum() > 0
