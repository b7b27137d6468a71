"""pluggrad's autograd: tensors, the graph, and reverse-mode differentiation.

    import autograd as ag
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (x @ x.T).relu().sum()
    y.backward()
    x.grad

The math, reduction and shape functions (`ag.exp`, `ag.sum`, `ag.concat`, ...) are the op
table's (`autograd.op.OPS`, declared in `autograd/ops/`), one per op or composed method.
"""

from . import sibling_check  # noqa: F401, I001  (first: a foreign `backends` fails by name)
from .tensor import Tensor  # first: the op modules import it
from . import ops
from . import updates
from .anomaly import detect_anomaly, is_anomaly_enabled
from .creation import (arange, eye, from_numpy, full, manual_seed, ones, ones_like, rand,
                       randint, randn, randperm, tensor, zeros, zeros_like)
from .dtypes import DType, bool_, float16, float32, float64, int32, int64
from .function import Context, Function
from .gradients import grad, hessian, jacobian
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from .ops.composite import one_hot
from .ops.linalg import svd
from .layer_ops import (adaptive_avg_pool2d, avg_pool2d, batch_norm, conv1d, conv2d, dropout,
                        embedding, fold, gelu, layer_norm, max_pool2d, pad, silu, softplus,
                        unfold)

_PUBLIC_FUNCTIONS = ops.public_functions()
globals().update(_PUBLIC_FUNCTIONS)

from . import jit, linalg  # noqa: E402  (after the functions they build on and trace)

__all__ = sorted([
    "adaptive_avg_pool2d", "arange", "avg_pool2d", "batch_norm", "bool_", "Context",
    "conv1d", "conv2d", "detect_anomaly", "dropout", "DType", "embedding", "enable_grad",
    "eye", "float16", "float32", "float64", "fold", "from_numpy", "full", "Function", "gelu",
    "grad", "gradcheck", "GradcheckError", "gradgradcheck", "hessian", "int32", "int64",
    "is_anomaly_enabled", "is_grad_enabled", "jacobian", "jit", "layer_norm", "linalg",
    "manual_seed", "max_pool2d", "no_grad", "one_hot", "ones", "ones_like", "pad", "rand",
    "randint", "randn", "randperm", "set_grad_enabled", "silu", "softplus", "svd", "Tensor",
    "tensor", "unfold", "zeros", "zeros_like", *_PUBLIC_FUNCTIONS,
], key=str.lower)

# ---------------------------------------------------------------- PyTorch spellings
from .grad_mode import inference_mode  # noqa: E402
from .version import __version__  # noqa: E402

__distribution__ = "pluggrad"  # what `nn` checks: backends/family.py
cat = concat  # noqa: F821  (PyTorch's name, from the op table; takes dim= too)

__all__ += ["cat", "inference_mode"]
