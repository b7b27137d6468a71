"""What is particular to the Numba backend: which arrays reach which kernel, the disk cache
of compiled kernels, its threads, and the thread pool that spreads NumPy loops over the cores.
Its results are checked against the NumPy backend by the conformance suite."""

import multiprocessing
import os
import shutil
import subprocess
import sys
import textwrap
import threading
import types

import numpy as np
import pytest

import backends

numba_state = backends.available().get("numba")
pytestmark = pytest.mark.skipif(numba_state is not True, reason=f"numba: {numba_state}")

if numba_state is True:
    import test_backend_conformance as conformance

    from backends import numba_backend, numba_cache, numba_kernels, numba_products
    from backends.thread_chunks import ChunkPool

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@pytest.fixture
def numba():
    return backends.get("numba")


# ------------------------------------------------------------------------------ dispatch
@pytest.fixture
def kernel_calls(monkeypatch):
    """The names of the kernels called, in order, while the test runs."""
    calls = []
    for name in ("binary_flat", "binary_scalar", "binary_rows", "where", "where_scalar",
                 "sum_all", "reduce_rows", "reduce_columns", "relu", "tanh_backward",
                 "sgd_step"):
        kernel = getattr(numba_kernels, name)

        def spy(*args, _kernel=kernel, _name=name):
            calls.append(_name)
            return _kernel(*args)

        monkeypatch.setattr(numba_kernels, name, spy)
    return calls


COLS = 64


def _large(*shape, dtype="float32"):
    n = int(np.prod(shape))
    return (np.arange(n, dtype=dtype) % 7 + 1).reshape(shape)


def _at(threshold, dtype="float32"):
    """An array of COLS columns and just enough rows to reach the named size threshold."""
    return _large(getattr(numba_backend, threshold) // COLS, COLS, dtype=dtype)


@pytest.mark.parametrize("call,expected", [
    (lambda b: b.add(_at("ARITHMETIC_MIN_SIZE"), _at("ARITHMETIC_MIN_SIZE")), ["binary_flat"]),
    (lambda b: b.mul(_at("ARITHMETIC_MIN_SIZE"), 0.5), ["binary_scalar"]),
    (lambda b: b.sub(2, _at("ARITHMETIC_MIN_SIZE")), ["binary_scalar"]),
    (lambda b: b.mul(np.broadcast_to(np.float32(3), (numba_backend.ARITHMETIC_MIN_SIZE,)),
                     _at("ARITHMETIC_MIN_SIZE").reshape(-1)), ["binary_scalar"]),
    (lambda b: b.add(_at("ROWS_MIN_SIZE"), _large(COLS)), ["binary_rows"]),
    (lambda b: b.div(_large(1, COLS), _at("ROWS_MIN_SIZE")), ["binary_rows"]),
    (lambda b: b.add(_at("ROWS_MIN_SIZE"),
                     np.broadcast_to(_large(COLS), _at("ROWS_MIN_SIZE").shape)), ["binary_rows"]),
    (lambda b: b.where(_at("SLOW_NUMPY_MIN_SIZE") > 3, _at("SLOW_NUMPY_MIN_SIZE"), 0.0),
     ["where_scalar"]),
    (lambda b: b.relu(_at("ONE_PASS_MIN_SIZE", dtype="float64")), ["relu"]),
    (lambda b: b.tanh_backward(_at("ACTIVATION_BACKWARD_MIN_SIZE"),
                               _at("ACTIVATION_BACKWARD_MIN_SIZE")),
     ["tanh_backward"]),
    (lambda b: b.sum(_at("SUM_MIN_SIZE")), ["sum_all"]),
    (lambda b: b.sum(_at("COLUMNS_MIN_SIZE"), (0,), True), ["reduce_columns"]),
    (lambda b: b.max(_at("SUM_MIN_SIZE"), 1), ["reduce_rows"]),
    (lambda b: b.sgd_step_(_at("UPDATE_MIN_SIZE"), _at("UPDATE_MIN_SIZE"),
                           _at("UPDATE_MIN_SIZE"), 0.1, 0.9, 0.0, False, 0.0, False),
     ["sgd_step"]),
], ids=["same_shape", "scalar", "scalar_left", "broadcast_scalar_view", "row", "row_left",
        "broadcast_row_view", "where_scalar", "relu_float64", "tanh_backward", "sum_all",
        "sum_first_axis", "max_last_axis", "sgd_update"])
def test_large_float_arrays_reach_their_kernel(numba, kernel_calls, call, expected):
    call(numba)
    assert kernel_calls == expected


@pytest.mark.parametrize("call", [
    lambda b: b.add(_large(3, 4), _large(3, 4)),
    lambda b: b.add(_at("ROWS_MIN_SIZE"), _at("ROWS_MIN_SIZE")),
    lambda b: b.add(_at("ARITHMETIC_MIN_SIZE").T, _at("ARITHMETIC_MIN_SIZE").T.copy()),
    lambda b: b.add(_at("ROWS_MIN_SIZE"), _large(numba_backend.ROWS_MIN_SIZE // COLS, 1)),
    lambda b: b.add(_at("ARITHMETIC_MIN_SIZE", dtype="int64"), 1),
    lambda b: b.mul(_at("ARITHMETIC_MIN_SIZE"), _at("ARITHMETIC_MIN_SIZE", dtype="float64")),
    lambda b: b.mul(_at("ARITHMETIC_MIN_SIZE"), np.float64(2.0)),
    lambda b: b.sum(_at("SUM_MIN_SIZE").reshape(8, -1, COLS), 1),
    lambda b: b.sum(_at("SUM_MIN_SIZE"), 0),
    lambda b: b.max(_at("SUM_MIN_SIZE")),
    lambda b: b.max(_at("SUM_MIN_SIZE").reshape(-1, 1024), 1),
], ids=["small", "same_shape_below_its_threshold", "non_contiguous", "column_broadcast",
        "int64", "mixed_dtypes", "numpy_float64_scalar", "middle_axis",
        "columns_below_their_threshold", "max_all", "max_wide_rows"])
def test_other_cases_stay_on_numpy(numba, kernel_calls, call):
    reference = backends.get("numpy")
    assert np.array_equal(call(numba), call(reference))
    assert kernel_calls == []


def _stack_work(items, item_work):
    """(a, b): `items` products of about `item_work` multiply-adds, 64 x k @ k x 64."""
    k = max(1, item_work // (64 * 64))
    return _large(items, 64, k), _large(items, k, 64)


def _row_stacks(items, m, n, length, dtype="float32"):
    """(a, b): a stack of a @ b with b a transposed view, as a weight gradient has it."""
    return _large(items, m, length, dtype=dtype), np.swapaxes(
        _large(items, n, length, dtype=dtype), -1, -2)


@pytest.fixture
def product_paths(numba, monkeypatch):
    """Which path each matmul call took while the test runs: "rows" (the row-products
    kernel) or "split" (NumPy's products split over the thread pool); none for NumPy."""
    calls = []
    run_ranges = numba_backend.POOL.run_ranges

    def split(fn, n, align=1):
        calls.append("split")
        return run_ranges(fn, n, align)

    def row_products(*args):
        calls.append("rows")
        return numba_products.row_products(*args)

    monkeypatch.setattr(numba_backend.POOL, "run_ranges", split)
    monkeypatch.setattr(numba_backend, "products",
                        types.SimpleNamespace(row_products=row_products))
    return calls


@pytest.mark.parametrize("operands,path", [
    (lambda: _stack_work(16, numba_backend.STACK_MIN_WORK // 16), ["split"]),
    (lambda: (_large(16, 27), _large(64, 1, 27, 1024)), ["split"]),
    (lambda: _row_stacks(64, 16, 27, 1024), ["rows"]),
    (lambda: _row_stacks(64, 5, 7, 1024, dtype="float64"), ["rows"]),
    (lambda: _stack_work(16, numba_backend.STACK_MIN_WORK // 32), []),
    (lambda: _stack_work(8, numba_backend.STACK_ITEM_MAX_WORK), []),
    (lambda: (_large(1, 64, 1024), _large(1024, 512)), []),
    (lambda: (_large(1024, 1024), _large(1024, 1024)), []),
    (lambda: (_large(16, 27, dtype="float64"), _large(64, 1, 27, 1024)), []),
    (lambda: (_large(16, 27, dtype="int64"), _large(64, 1, 27, 1024, dtype="int64")), []),
    (lambda: _row_stacks(64, 16, 27, numba_backend.ROW_PRODUCTS_MIN_LENGTH // 2), []),
    (lambda: _row_stacks(64, 32, 64, 256), ["split"]),
    (lambda: _row_stacks(2, 16, 27, 1024), []),
], ids=["stack", "shared_left", "rows", "rows_float64_uneven", "below_min_work",
        "items_large_enough_for_blas_threads", "one_item", "plain_matrices", "mixed_dtypes",
        "int64", "rows_too_short", "rows_result_too_large", "rows_below_min_work"])
def test_large_stacks_of_products_take_a_parallel_path(numba, product_paths, operands, path):
    a, b = operands()
    np.testing.assert_allclose(numba.matmul(a, b), np.matmul(a, b), rtol=1e-6)
    assert product_paths == path


def test_conformance_sizes_straddle_the_thresholds():
    """The conformance suite's SMALL arrays must stay on NumPy, its LARGE ones reach every
    kernel but the plain arithmetic, the column sums, the activation backward masks and the
    thread pool, and its HUGE ones those too, or it would test one side of a threshold
    only."""
    small, large, huge = (rows * cols for rows, cols in (
        conformance.SMALL, conformance.LARGE, conformance.HUGE))
    thresholds = {name: value for name, value in vars(numba_backend).items()
                  if name.endswith("_MIN_SIZE")}
    for name in ("ARITHMETIC_MIN_SIZE", "COLUMNS_MIN_SIZE", "ACTIVATION_BACKWARD_MIN_SIZE",
                 "POOL_MIN_SIZE"):
        assert large < thresholds.pop(name) <= huge, name
    for name, threshold in thresholds.items():
        assert small < threshold <= large, name
    wide_rows = conformance.REDUCTION_CASES["wide_rows"][0][1]
    assert conformance.LARGE[1] <= numba_backend.NARROW_ROW < wide_rows


# ------------------------------------------------------------------------------ cache
def test_cache_stays_next_to_the_code_when_that_is_writable(tmp_path):
    folder = numba_cache.cache_folder(str(tmp_path), environ={})
    assert folder == str(tmp_path / "__pycache__" /
                         f"numba-formulas-{numba_cache.formulas_version()}")


def test_a_change_of_the_formulas_changes_the_cache_folder(tmp_path, monkeypatch):
    """Numba would load a kernel compiled with an old formula inlined: the folder is named
    after the formulas' source, so a new formula starts an empty one."""
    before = numba_cache.cache_folder(str(tmp_path), environ={})
    monkeypatch.setattr(numba_cache, "formulas_version", lambda: "another")
    assert numba_cache.cache_folder(str(tmp_path), environ={}) != before


def test_cache_goes_to_the_user_cache_folder_when_the_code_is_read_only(tmp_path):
    read_only = tmp_path / "package"
    read_only.mkdir()
    (read_only / "__pycache__").write_text("a file where the cache folder would go")
    environ = {"XDG_CACHE_HOME": str(tmp_path / "user-cache")}
    folder = numba_cache.cache_folder(str(read_only), environ=environ)
    assert folder == str(tmp_path / "user-cache" / "pluggrad" / "numba" /
                         f"numba-formulas-{numba_cache.formulas_version()}")
    assert os.path.isdir(folder)


def test_cache_respects_numba_cache_dir(tmp_path):
    read_only = tmp_path / "package"
    read_only.mkdir()
    (read_only / "__pycache__").write_text("not a folder")
    environ = {"NUMBA_CACHE_DIR": str(tmp_path / "chosen")}
    assert numba_cache.cache_folder(str(read_only), environ=environ) is None


def _run(code, cwd=None, **environ):
    env = dict(os.environ, **environ)
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, env=env, cwd=cwd, timeout=300)


def test_a_read_only_installation_caches_kernels_in_the_user_cache(tmp_path):
    """A copy of the package whose `__pycache__` cannot be created: kernels still compile,
    and their cache lands in $XDG_CACHE_HOME/pluggrad/numba."""
    install = tmp_path / "install"
    for package in ("autograd", "backends"):
        shutil.copytree(os.path.join(REPOSITORY, package), install / package,
                        ignore=shutil.ignore_patterns("__pycache__"))
    (install / "backends" / "__pycache__").write_text("not a folder")
    result = _run("""
        import numpy as np
        import backends
        from backends import numba_backend
        b = backends.get("numba")
        x = np.ones(numba_backend.ROWS_MIN_SIZE, dtype="float64").reshape(-1, 64)
        assert (b.add(x, x[0]) == 2).all()
        print(backends.numba_backend.__file__)
    """, cwd=tmp_path, PYTHONPATH=str(install), XDG_CACHE_HOME=str(tmp_path / "cache"),
        NUMBA_CACHE_DIR="")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(str(install))
    cached = [name for _, _, names in os.walk(tmp_path / "cache" / "pluggrad" / "numba")
              for name in names]
    assert any(name.startswith("numba_kernels.binary_rows") for name in cached), cached


def test_importing_with_the_numba_backend_compiles_nothing():
    result = _run("""
        import autograd
        import backends
        from backends import numba_kernels
        from numba.core.registry import CPUDispatcher
        assert backends.current().name == "numba"
        compiled = [name for name, f in vars(numba_kernels).items()
                    if isinstance(f, CPUDispatcher) and f.overloads]
        print(compiled)
    """, AUTOGRAD_BACKEND="numba")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("threads", ["1", "2"])
def test_numba_num_threads_sets_the_threads(threads):
    result = _run("""
        import numba
        import backends
        from backends import numba_backend
        b = backends.get("numba")
        print(b.threads, numba_backend.POOL.threads, numba.get_num_threads())
    """, NUMBA_NUM_THREADS=threads)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [threads] * 3


# ------------------------------------------------------------------------------ chunk pool
@pytest.mark.parametrize("n", [0, 5, 16, 1000, 4099])
@pytest.mark.parametrize("threads", [1, 2, 3])
def test_chunk_pool_covers_every_element_once(n, threads):
    pool = ChunkPool(threads)
    seen = np.zeros(n, dtype=int)
    workers = set()

    def mark(chunk):
        chunk += 1
        workers.add(threading.get_ident())

    pool.run(mark, seen)
    assert (seen == 1).all()
    assert len(workers) <= threads


def test_chunk_pool_chunks_start_on_cache_lines():
    pool = ChunkPool(3)
    starts = []
    data = np.zeros(1000, dtype=np.float32)
    pool.run(lambda chunk: starts.append(chunk.ctypes.data - data.ctypes.data), data)
    assert sorted(starts)[0] == 0
    assert all(offset % 64 == 0 for offset in starts)


def test_chunk_pool_raises_what_a_worker_raised():
    pool = ChunkPool(2)
    data = np.arange(64.0)

    def fail_on_first_half(chunk):
        if chunk[0] == 0:
            raise ValueError("first chunk failed")

    with pytest.raises(ValueError, match="first chunk failed"):
        pool.run(fail_on_first_half, data)


def test_chunk_pool_workers_follow_the_callers_numpy_error_state():
    pool = ChunkPool(2)
    data = np.ones(64)
    data[:32] = 0.0  # log(0) divides by zero in the worker's chunk only
    with np.errstate(divide="raise"):
        with pytest.raises(FloatingPointError):
            pool.run(lambda chunk: np.log(chunk, out=chunk), data)


def test_chunk_pool_starts_new_threads_in_a_forked_child():
    pool = ChunkPool(2)
    pool.run(lambda chunk: chunk.fill(1.0), np.zeros(64))
    context = multiprocessing.get_context("fork")
    result = context.Queue()

    def child():
        data = np.zeros(64)
        pool.run(lambda chunk: chunk.fill(2.0), data)
        result.put(float(data.sum()))

    process = context.Process(target=child)
    process.start()
    process.join(timeout=60)
    if process.is_alive():  # waiting on threads that the fork did not copy
        process.kill()
    assert process.exitcode == 0
    assert result.get(timeout=1) == 128.0
