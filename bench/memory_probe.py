"""Run in a fresh process by the memory suite: train a 256-1024-1 tanh MLP on 2,048
samples for 40 steps, keeping each step's loss (`kept`: the tensor itself, as
`history.append(loss)` does) or only its value (`items`: `loss.item()`), and print as JSON
the process's peak resident memory and how much more it holds after the loop than before.

    python -m bench.memory_probe ENGINE MODE [STEPS]

ENGINE is a pluggrad backend name or `torch` (PyTorch on the CPU); MODE is `kept` or
`items`. A fresh process per loop keeps one loop's memory from hiding another's.
"""

import gc
import json
import sys

import numpy as np

SAMPLES, INPUTS, HIDDEN = 2048, 256, 1024
STEPS = 40
MODES = ("kept", "items")


def _status_bytes(field):
    """A memory figure of this process from Linux's /proc/self/status, in bytes."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) * 1024  # given in kB
    raise RuntimeError(f"memory probe: /proc/self/status has no {field} line")


def resident_bytes():
    """The process's resident memory now."""
    return _status_bytes("VmRSS")


def peak_resident_bytes():
    """The process's peak resident memory (VmHWM, which starts afresh in a new program,
    unlike getrusage's ru_maxrss, which keeps the peak of the process that started it)."""
    return _status_bytes("VmHWM")


def _data():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((SAMPLES, INPUTS), dtype=np.float32)
    y = np.sin(x[:, :1])
    return x, y


def pluggrad_loop(backend):
    """One training step at a time of the pluggrad MLP, as a generator of losses."""
    import autograd as ag
    import nn

    ag.manual_seed(0)
    x, y = (ag.tensor(a, backend=backend) for a in _data())
    model = nn.Sequential(nn.Linear(INPUTS, HIDDEN, backend=backend), nn.Tanh(),
                          nn.Linear(HIDDEN, 1, backend=backend))
    optimizer = nn.optim.SGD(model.parameters(), lr=0.01)
    while True:
        loss = nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        yield loss


def torch_loop():
    import torch

    torch.manual_seed(0)
    x, y = (torch.from_numpy(a) for a in _data())
    model = torch.nn.Sequential(torch.nn.Linear(INPUTS, HIDDEN), torch.nn.Tanh(),
                                torch.nn.Linear(HIDDEN, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01)
    while True:
        loss = torch.nn.functional.mse_loss(model(x), y)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
        yield loss


def measure(engine, mode, steps=STEPS):
    """The figures of one loop, in bytes: `peak` (peak resident memory of the process),
    `before` and `after` (resident memory before the first step and after the last, once
    the garbage collector has run) and `retained` (after - before)."""
    if mode not in MODES:
        raise ValueError(f"memory probe: mode must be one of {', '.join(MODES)}, got {mode!r}")
    losses = torch_loop() if engine == "torch" else pluggrad_loop(engine)
    history = [next(losses)]  # one warm-up step: what every loop needs, buffers and all
    history.clear()
    gc.collect()
    before = resident_bytes()
    for _ in range(steps):
        loss = next(losses)
        history.append(loss if mode == "kept" else loss.item())
    del loss
    gc.collect()
    after = resident_bytes()
    return {"engine": engine, "mode": mode, "steps": steps, "peak": peak_resident_bytes(),
            "before": before, "after": after, "retained": after - before}


if __name__ == "__main__":
    engine, mode, *rest = sys.argv[1:]
    json.dump(measure(engine, mode, *(int(n) for n in rest)), sys.stdout)
