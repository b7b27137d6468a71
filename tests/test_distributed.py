"""Data-parallel training: nn.distributed, DistributedDataParallel, DistributedSampler.

The checks that need several processes run `mpiexec -n 2` on tests/mpi_programs (skipped
with the reason when mpi4py or mpiexec is missing); the rest runs in this process, where
the job is one process and every collective is a no-op."""

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import autograd as ag
import nn
from backends.collectives import NcclTransport
from nn import distributed
from nn.data import DataLoader, DistributedSampler, TensorDataset
from nn.parallel import DistributedDataParallel

ROOT = Path(__file__).resolve().parent.parent
PROGRAM = ROOT / "tests" / "mpi_programs" / "ddp_checks.py"
MPIEXEC = shutil.which("mpiexec", path=os.path.dirname(sys.executable)) or shutil.which("mpiexec")
HANG_GUARD_S = 120


def _mpi_missing():
    if importlib.util.find_spec("mpi4py") is None:
        return 'mpi4py is not installed: pip install -e ".[mpi]"'
    if MPIEXEC is None:
        return 'mpiexec is not on PATH: pip install -e ".[mpi]" (the mpich wheel provides it)'
    return None


needs_mpi = pytest.mark.skipif(_mpi_missing() is not None, reason=str(_mpi_missing()))


def run_two_ranks(*arguments):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1",
               OPENBLAS_NUM_THREADS="1", MKL_NUM_THREADS="1")
    return subprocess.run([MPIEXEC, "-n", "2", sys.executable, str(PROGRAM), *arguments],
                          check=False, cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=HANG_GUARD_S)


# ---------------------------------------------------------------- several processes
@needs_mpi
def test_two_ranks_train_as_one_process_on_twice_the_batch():
    done = run_two_ranks("training")
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    for name in ("SGD with momentum micro_batches=1", "Adam micro_batches=1",
                 "SGD with momentum, no_sync micro_batches=2", "Adam, no_sync micro_batches=3",
                 "SGD with momentum, averaged micro-batches micro_batches=2"):
        assert any(line.startswith(f"equivalent {name} ") for line in lines), done.stdout
    assert any(line.startswith("collectives:") for line in lines), done.stdout
    assert any(line.startswith("average_gradients:") for line in lines), done.stdout
    assert any(line.startswith("overlap:") for line in lines), done.stdout
    assert any(line.startswith("unused parameters:") for line in lines), done.stdout


@needs_mpi
def test_fit_averages_over_ranks_and_only_rank_0_writes(tmp_path):
    done = run_two_ranks("fit", str(tmp_path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "fit: losses averaged over ranks, checkpoint from rank 0" in done.stdout
    assert sorted(p.name for p in tmp_path.iterdir()) == ["written_by_rank_0.safetensors"]


@needs_mpi
def test_the_playground_trains_on_two_ranks_and_rank_0_alone_speaks(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    done = subprocess.run([MPIEXEC, "-n", "2", sys.executable, "-m", "nn.playground",
                           "--epochs", "3", "--samples", "200", "--out",
                           str(tmp_path / "map.png")], check=False, cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert done.returncode == 0, done.stderr
    assert done.stdout.count("data-parallel over 2 processes") == 1
    assert done.stdout.count("test accuracy:") == 1


def _example_accuracy(launch):
    env = dict(os.environ, PYTHONPATH=str(ROOT), OMP_NUM_THREADS="1")
    done = subprocess.run([*launch, sys.executable, str(ROOT / "examples" /
                                                       "distributed_spiral.py"),
                           "--epochs", "30"], check=False, cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=HANG_GUARD_S)
    assert done.returncode == 0, done.stderr
    (line,) = [line for line in done.stdout.splitlines() if line.startswith("test accuracy")]
    return float(line.split()[-1].rstrip("%"))


@needs_mpi
def test_the_readme_example_reaches_the_same_accuracy_alone_and_on_two_ranks():
    alone = _example_accuracy([])
    assert alone > 80
    assert abs(_example_accuracy([MPIEXEC, "-n", "2"]) - alone) <= 1


@needs_mpi
def test_an_error_on_one_rank_ends_the_job_naming_the_rank(tmp_path):
    failed_at = tmp_path / "failed_at"
    done = run_two_ranks("failure", str(failed_at))
    ended = time.time()
    assert done.returncode != 0
    assert "rank 1 of 2 failed with RuntimeError: injected failure at step 3" in done.stderr
    # Rank 0 was waiting in an all-reduce: without the abort it would wait forever.
    assert ended - float(failed_at.read_text()) < 10


@needs_mpi
def test_models_that_differ_fail_at_construction_naming_the_parameter():
    done = run_two_ranks("mismatch")
    assert done.returncode != 0
    assert ("parameter '0.weight' has shape (8, 5), dtype float64 on rank 0 but shape "
            "(9, 5), dtype float64 on rank 1") in done.stderr


# ---------------------------------------------------------------- one process
def test_alone_every_collective_returns_its_input():
    distributed.init()
    assert distributed.is_initialized()
    assert (distributed.rank(), distributed.world_size()) == (0, 1)
    t = ag.tensor([1.0, 2.0])
    for op in ("sum", "mean", "max"):
        assert distributed.all_reduce(t, op=op) is t and t.tolist() == [1.0, 2.0]
    assert distributed.broadcast(t) is t
    assert distributed.all_gather(0.5) == [0.5]
    distributed.barrier()
    assert distributed.transport(t.backend) is None


def test_collectives_reject_bad_arguments():
    with pytest.raises(ValueError, match="op must be one of sum, mean, max, got 'avg'"):
        distributed.all_reduce(ag.tensor([1.0]), op="avg")
    with pytest.raises(ValueError, match="src must be a rank from 0 to 0, got 1"):
        distributed.broadcast(ag.tensor([1.0]), src=1)


def test_a_launcher_without_mpi4py_is_a_clear_error(monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    with pytest.raises(RuntimeError, match=r'started by an MPI launcher with 2 processes, '
                                           r'but mpi4py is not installed'):
        distributed._world_communicator()


def test_a_launcher_of_one_process_needs_no_mpi(monkeypatch):
    monkeypatch.setenv("PMI_SIZE", "1")
    monkeypatch.setitem(sys.modules, "mpi4py", None)
    assert distributed._world_communicator() is None


def test_alone_the_wrapper_only_calls_the_module():
    ag.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 2))
    ddp = DistributedDataParallel(model)
    x = ag.randn(4, 3)
    assert ddp(x).tolist() == model(x).tolist()
    assert list(ddp.parameters()) == list(model.parameters())
    assert ddp.state_dict().keys() == model.state_dict().keys()
    with ddp.no_sync():
        ddp(x).sum().backward()
    ddp.average_gradients()
    assert model[0].weight.grad is not None


def test_the_wrapper_checks_its_arguments():
    with pytest.raises(TypeError, match="expected a Module, got int"):
        DistributedDataParallel(3)
    with pytest.raises(ValueError, match="bucket_mb must be a positive number"):
        DistributedDataParallel(nn.Linear(2, 2), bucket_mb=0)


# ---------------------------------------------------------------- the sampler
# Positions PyTorch's DistributedSampler gives 10 samples over 3 replicas, shuffle=False.
TORCH_PADDED = [[0, 3, 6, 9], [1, 4, 7, 0], [2, 5, 8, 1]]
TORCH_DROPPED = [[0, 3, 6], [1, 4, 7], [2, 5, 8]]


@pytest.mark.parametrize(("drop_last", "expected"), [(False, TORCH_PADDED),
                                                     (True, TORCH_DROPPED)])
def test_the_sampler_pads_or_drops_as_pytorch_does(drop_last, expected):
    shards = [list(DistributedSampler(range(10), num_replicas=3, rank=r, shuffle=False,
                                      drop_last=drop_last)) for r in range(3)]
    assert shards == expected
    assert len(DistributedSampler(range(10), num_replicas=3, rank=0,
                                  drop_last=drop_last)) == len(expected[0])


def test_a_dataset_smaller_than_the_job_is_padded_by_repeating_it():
    shards = [list(DistributedSampler(range(2), num_replicas=5, rank=r, shuffle=False))
              for r in range(5)]
    assert shards == [[0], [1], [0], [1], [0]]


def test_shuffled_shards_are_disjoint_agree_across_ranks_and_change_with_the_epoch():
    samplers = [DistributedSampler(range(12), num_replicas=3, rank=r, seed=7) for r in range(3)]
    first = [list(s) for s in samplers]
    assert sorted(p for shard in first for p in shard) == list(range(12))
    assert first != [[0, 3, 6, 9], [1, 4, 7, 10], [2, 5, 8, 11]]
    again = [list(DistributedSampler(range(12), num_replicas=3, rank=r, seed=7))
             for r in range(3)]
    assert again == first
    for s in samplers:
        s.set_epoch(1)
    second = [list(s) for s in samplers]
    assert second != first and sorted(p for shard in second for p in shard) == list(range(12))


def test_the_sampler_checks_its_arguments():
    with pytest.raises(ValueError, match="num_replicas must be a positive integer"):
        DistributedSampler(range(3), num_replicas=0, rank=0)
    with pytest.raises(ValueError, match="rank must be an integer from 0 to 1, got 2"):
        DistributedSampler(range(3), num_replicas=2, rank=2)


def test_a_loader_batches_the_samplers_shard():
    values = ag.arange(10, dtype=ag.float64).reshape(10, 1)
    dataset = TensorDataset(values, values)
    sampler = DistributedSampler(dataset, num_replicas=2, rank=1, shuffle=False)
    loader = DataLoader(dataset, batch_size=2, sampler=sampler)
    assert len(loader) == 3
    assert [batch[0].reshape(-1).tolist() for batch in loader] == [[1, 3], [5, 7], [9]]
    plain = DataLoader(list(range(10)), batch_size=4, sampler=sampler)
    assert [batch.tolist() for batch in plain] == [[1, 3, 5, 7], [9]]
    with pytest.raises(ValueError, match="shuffle=True and a sampler"):
        DataLoader(dataset, sampler=sampler, shuffle=True)


# ---------------------------------------------------------------- transports
def test_the_cupy_backend_gets_nccl_and_the_others_mpi(monkeypatch):
    from backends import collectives

    monkeypatch.setattr(collectives, "NcclTransport", lambda comm: ("nccl", comm))
    monkeypatch.setattr(collectives, "MpiTransport", lambda comm: ("mpi", comm))

    class Named:
        def __init__(self, name):
            self.name = name

    assert collectives.transport_for(Named("cupy"), "world") == ("nccl", "world")
    for name in ("numpy", "numba"):
        assert collectives.transport_for(Named(name), "world") == ("mpi", "world")


def _huge_pages_offered():
    """Whether this kernel backs memory advised for it with transparent huge pages."""
    try:
        setting = Path("/sys/kernel/mm/transparent_hugepage/enabled").read_text()
    except OSError:
        return False
    return "[never]" not in setting


def _smaps_field(address, field):
    """`field` of /proc/self/smaps for the mapping that holds `address` (None on a kernel
    whose smaps has no such field)."""
    inside = False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()[0]
        if "-" in head and ":" not in head:
            low, high = (int(bound, 16) for bound in head.split("-"))
            inside = low <= address < high
        elif inside and line.startswith(field + ":"):
            return int(line.split()[1])
    return None


@pytest.mark.parametrize("size, dtype", [(535_818, "float32"), (3, "float64"), (0, "int64")])
def test_a_host_reduction_buffer_is_zeroed_writable_memory_of_its_size(size, dtype):
    from backends import collectives

    buffer = collectives._huge_page_zeros(size, dtype)
    assert buffer.shape == (size,) and buffer.dtype == np.dtype(dtype)
    assert buffer.flags.c_contiguous and buffer.flags.writeable
    assert not buffer.any()
    buffer[:] = 7
    assert (buffer == 7).all()


@pytest.mark.skipif(not _huge_pages_offered(), reason="this kernel offers no transparent "
                    "huge pages (Linux with /sys/kernel/mm/transparent_hugepage not 'never')")
def test_a_host_reduction_buffer_starts_a_huge_page_the_kernel_may_back_as_one():
    from backends import collectives

    buffer = collectives._huge_page_zeros(2**20, "float32")
    address = buffer.ctypes.data
    assert address % collectives.HUGE_PAGE_BYTES == 0
    eligible = _smaps_field(address, "THPeligible")
    if eligible is None:
        pytest.skip("this kernel's /proc/self/smaps has no THPeligible field")
    # A shared anonymous mapping would be ineligible; this one is private and advised.
    assert eligible == 1


def test_without_huge_page_advice_a_host_reduction_buffer_is_an_ordinary_array(monkeypatch):
    import mmap

    from backends import collectives

    monkeypatch.delattr(mmap, "MADV_HUGEPAGE", raising=False)
    buffer = collectives._huge_page_zeros(10, "float32")
    assert buffer.base is None and not buffer.any()


class FakeNccl:
    """Records what NcclTransport asks of cupy.cuda.nccl."""

    NCCL_SUM, NCCL_MAX = "sum", "max"
    NCCL_FLOAT16, NCCL_FLOAT32, NCCL_FLOAT64, NCCL_INT32, NCCL_INT64 = (
        "f16", "f32", "f64", "i32", "i64")

    def __init__(self, unique_id):
        self.unique_id, self.calls = unique_id, []
        fake = self

        class NcclCommunicator:
            def __init__(self, size, unique_id, rank):
                fake.calls.append(("communicator", size, unique_id, rank))

            def allReduce(self, send, receive, count, dtype, op, stream):
                fake.calls.append(("allReduce", send, receive, count, dtype, op, stream))

            def bcast(self, pointer, count, dtype, root, stream):
                fake.calls.append(("bcast", pointer, count, dtype, root, stream))

        self.NcclCommunicator = NcclCommunicator

    def get_unique_id(self):
        return self.unique_id


class FakeCuda:
    """Streams, events and devices that only note their use."""

    def __init__(self):
        self.log = []
        log = self.log

        class Event:
            pass

        class Stream:
            ptr = 77

            def __init__(self, non_blocking=False):
                self.non_blocking = non_blocking

            def record(self):
                return Event()

            def wait_event(self, event):
                log.append(("wait", self.ptr))

        class Device:
            def __init__(self, index):
                self.index = index

            def use(self):
                log.append(("device", self.index))

        class Runtime:
            @staticmethod
            def getDeviceCount():
                return 2

        self.Stream, self.Device, self.runtime = Stream, Device, Runtime
        self.current = Stream()
        self.current.ptr = 0

    def get_current_stream(self):
        return self.current


class FakeComm:
    """One rank's view of a world whose rank 0 chose the unique id 'id-of-rank-0' (its rank
    on its node is its rank)."""

    def __init__(self, rank):
        self.rank = rank

    def Get_rank(self):
        return self.rank

    def Get_size(self):
        return 2

    def Split_type(self, kind):
        return self

    def bcast(self, value, root):
        return "id-of-rank-0"


class DeviceArray:
    """What NcclTransport reads of a cupy.ndarray: its device pointer, size and dtype."""

    def __init__(self, pointer, size, dtype):
        self.data = type("Memory", (), {"ptr": pointer})()
        self.size, self.dtype = size, np.dtype(dtype)


@pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None, reason="mpi4py is not installed")
@pytest.mark.parametrize("rank", [0, 1])
def test_nccl_takes_rank_0s_unique_id_over_mpi_and_reduces_device_memory(rank):
    nccl, cuda = FakeNccl(unique_id=f"id-of-rank-{rank}"), FakeCuda()
    transport = NcclTransport(FakeComm(rank), nccl=nccl, cuda=cuda)
    assert nccl.calls == [("communicator", 2, "id-of-rank-0", rank)]
    request = transport.all_reduce(DeviceArray(pointer=4096, size=10, dtype="float32"), "sum")
    assert nccl.calls[-1] == ("allReduce", 4096, 4096, 10, "f32", "sum", 77)
    request.wait()
    assert cuda.log[-1] == ("wait", 0)  # the current stream waits for NCCL's, on the device
    transport.broadcast(DeviceArray(pointer=8192, size=3, dtype="float64"), root=0)
    assert nccl.calls[-1] == ("bcast", 8192, 3, "f64", 0, 77)
    with pytest.raises(TypeError, match="dtype bool is not supported"):
        transport.all_reduce(DeviceArray(pointer=1, size=1, dtype="bool"))
    with pytest.raises(ValueError, match="op must be one of sum, max"):
        transport.all_reduce(DeviceArray(pointer=1, size=1, dtype="float32"), "mean")


@pytest.mark.skipif(importlib.util.find_spec("mpi4py") is None, reason="mpi4py is not installed")
@pytest.mark.parametrize(("local_rank", "device"), [(0, 0), (1, 1), (2, 0)])
def test_each_process_takes_the_gpu_of_its_rank_on_its_node(local_rank, device):
    from backends.collectives import place_process

    cuda = FakeCuda()
    place_process(type("Cupy", (), {"name": "cupy"})(), FakeComm(local_rank), cuda=cuda)
    assert cuda.log == [("device", device)]  # FakeCuda has 2 devices
    host = FakeCuda()
    place_process(type("Numpy", (), {"name": "numpy"})(), FakeComm(local_rank), cuda=host)
    assert host.log == []


@pytest.mark.skipif(importlib.util.find_spec("cupy") is None,
                    reason="cupy is not installed: the NCCL path runs on a CUDA device")
def test_nccl_all_reduce_on_a_device_with_one_rank():
    cupy = pytest.importorskip("cupy")
    from mpi4py import MPI

    transport = NcclTransport(MPI.COMM_SELF)
    values = cupy.arange(5, dtype=cupy.float32)
    transport.all_reduce(values, "sum").wait()
    transport.broadcast(values, root=0)
    assert values.get().tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]


# ---------------------------------------------------------------- the benchmark suite
@needs_mpi
def test_the_distributed_bench_suite_launches_itself_and_reports_its_figures(tmp_path):
    from bench import __main__ as bench_main
    from bench.suites import distributed as suite

    bench_main.main(["--backends", "numpy", "--suite", "distributed", "--quick", "--out",
                     str(tmp_path)])
    results = json.loads((tmp_path / "results.json").read_text())
    figures = {(r["case"], r["comparator"], r["size"]): r["metric"]["unit"]
               for r in results["measurements"]}
    elements = sum(a * b + b for a, b in zip((784, 512, 256), (512, 256, 10)))
    assert figures == {(suite.TRAINING, "numpy", 1): "samples/s",
                       (suite.TRAINING, "numpy", 2): "samples/s",
                       (suite.AVERAGING, suite.WRAPPER, elements): "ms",
                       (suite.AVERAGING, suite.BARE, elements): "ms",
                       (suite.AVERAGING, suite.BARE_HUGE, elements): "ms"}
    assert [t["name"] for t in results["targets"]] == ["distributed speed-up",
                                                       "distributed averaging"]
    # A verdict, or "noisy" when the figures behind it are not steady enough for one.
    assert all(t["status"] in {"met", "missed", "noisy"} and t["ratio"] > 0
               for t in results["targets"])
