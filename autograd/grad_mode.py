"""Whether operations record the graph: a thread-local flag, and the ways to set it.

`no_grad` and `enable_grad` work both as context managers and as decorators.
"""

import functools
import threading


class _GradState(threading.local):
    def __init__(self):
        self.enabled = True


_state = _GradState()


def is_grad_enabled():
    return _state.enabled


class set_grad_enabled:
    """Turn recording on or off now; used as a context manager, restore it on exit."""

    def __init__(self, mode):
        self.previous = _state.enabled
        _state.enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled = self.previous
        return False


class _GradModeSwitch:
    mode = True

    def __new__(cls, fn=None):
        """`@no_grad` without parentheses decorates `fn` directly, as in PyTorch."""
        switch = super().__new__(cls)
        if fn is None:
            return switch
        if not callable(fn):
            raise TypeError(f"{cls.__name__}: takes no argument as a context manager "
                            f"(`with {cls.__name__}():`), or the function it decorates; got "
                            f"{type(fn).__name__}")
        return switch(fn)

    def __enter__(self):
        self.previous = _state.enabled
        _state.enabled = self.mode
        return self

    def __exit__(self, *exc):
        _state.enabled = self.previous
        return False

    def __call__(self, fn):
        mode = self.mode

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            previous = _state.enabled
            _state.enabled = mode
            try:
                return fn(*args, **kwargs)
            finally:
                _state.enabled = previous

        return wrapper


class no_grad(_GradModeSwitch):
    """Operations inside record no graph: for evaluation and in-place parameter updates."""

    mode = False


class enable_grad(_GradModeSwitch):
    """Operations inside record the graph, even within `no_grad`."""

    mode = True


class inference_mode(no_grad):
    """PyTorch's `inference_mode`: the same as `no_grad` here (pluggrad has no separate
    inference tensors). `inference_mode(False)` leaves recording as it is."""

    def __new__(cls, mode=True):
        if callable(mode):
            return super().__new__(cls, mode)
        if not mode:
            return enable_grad() if _state.enabled else no_grad()
        return super().__new__(cls)
