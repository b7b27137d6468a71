"""`Tensor.register_post_accumulate_grad_hook`: called during backward, as soon as a leaf's
`.grad` is complete for the pass, which is what lets data-parallel training send gradients
while backward still runs."""

import pytest

import autograd as ag


class Recorded(ag.Function):
    """The identity, whose backward notes that it ran."""

    events = None

    @staticmethod
    def forward(ctx, x):
        return ctx.backend.copy(x)

    @staticmethod
    def backward(ctx, grad):
        Recorded.events.append("earlier node")
        return grad


@pytest.fixture
def events():
    Recorded.events = []
    return Recorded.events


def test_hook_runs_as_soon_as_the_leaf_is_complete_before_older_nodes(events):
    x = ag.tensor([1.0, 2.0], requires_grad=True)
    w = ag.tensor([3.0, 4.0], requires_grad=True)
    w.register_post_accumulate_grad_hook(lambda t: events.append(("w", t.grad.tolist())))
    hidden = Recorded.apply(x)  # made before w is used, so its backward runs after w's is done
    (hidden * w).sum().backward()
    assert events == [("w", [1.0, 2.0]), "earlier node"]
    assert w.grad.tolist() == [1.0, 2.0] and x.grad.tolist() == [3.0, 4.0]


def test_hooks_run_in_the_order_the_leaves_finish():
    first = ag.tensor([1.0], requires_grad=True)
    second = ag.tensor([2.0], requires_grad=True)
    order = []
    first.register_post_accumulate_grad_hook(lambda t: order.append("first"))
    second.register_post_accumulate_grad_hook(lambda t: order.append("second"))
    ((first * 2).sum() + (second * 3).sum()).backward()
    assert order == ["second", "first"]  # second's last use is the newer one


def test_a_leaf_used_twice_sees_the_sum_of_both_uses_once():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    ((w * w).sum() + (w * 3).sum()).backward()
    assert seen == [[5.0, 7.0]]


def test_the_hook_sees_gradients_accumulated_over_passes_and_retain_graph():
    w = ag.tensor([1.0, 2.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    loss = (w * w).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    assert seen == [[2.0, 4.0], [4.0, 8.0]]


def test_register_hook_changes_the_gradient_before_it_is_written():
    w = ag.tensor([1.0], requires_grad=True)
    seen = []
    w.register_hook(lambda grad: grad * 10)
    w.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.tolist()))
    (w * 2).sum().backward()
    assert seen == [[20.0]]


def test_a_root_leaf_and_a_leaf_without_gradient():
    root = ag.tensor(2.0, requires_grad=True)
    unused = ag.tensor([1.0], requires_grad=True)
    seen = []
    root.register_post_accumulate_grad_hook(lambda t: seen.append(t.grad.item()))
    unused.register_post_accumulate_grad_hook(lambda t: seen.append("unused"))
    root.backward()
    assert seen == [1.0]
    assert unused.grad is None


def test_two_leaves_given_one_gradient_get_separate_grads():
    a = ag.tensor([1.0, 2.0], requires_grad=True)
    b = ag.tensor([3.0, 4.0], requires_grad=True)
    a.register_post_accumulate_grad_hook(lambda t: None)
    (a + b).sum().backward()
    assert a.grad is not b.grad and a.grad.data is not b.grad.data
    assert a.grad.tolist() == b.grad.tolist() == [1.0, 1.0]


def test_removed_hooks_are_not_called():
    w = ag.tensor([1.0], requires_grad=True)
    seen = []
    handle = w.register_post_accumulate_grad_hook(lambda t: seen.append(1))
    handle.remove()
    (w * 2).sum().backward()
    assert seen == [] and w.grad.tolist() == [2.0]


def test_autograd_grad_writes_nothing_and_calls_no_hook():
    w = ag.tensor([1.0], requires_grad=True)
    seen = []
    w.register_post_accumulate_grad_hook(lambda t: seen.append(1))
    (grad,) = ag.grad((w * 2).sum(), [w])
    assert grad.tolist() == [2.0] and seen == [] and w.grad is None


def test_only_a_leaf_that_requires_grad_takes_the_hook():
    with pytest.raises(RuntimeError, match="only a leaf tensor that requires grad"):
        ag.tensor([1.0]).register_post_accumulate_grad_hook(lambda t: None)
    computed = ag.tensor([1.0], requires_grad=True) * 2
    with pytest.raises(RuntimeError, match="register_hook on a computed tensor"):
        computed.register_post_accumulate_grad_hook(lambda t: None)
