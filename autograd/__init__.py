"""pluggrad's autograd: tensors, the graph, and reverse-mode differentiation.

    import autograd as ag
    x = ag.tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    y = (x @ x.T).relu().sum()
    y.backward()
    x.grad
"""

from . import sibling_check  # noqa: F401, I001  (first: a foreign `backends` fails by name)
from .tensor import Tensor  # first: the op modules import it
from . import updates
from .autodiff import grad
from .creation import (arange, eye, from_numpy, full, manual_seed, ones, ones_like, rand,
                       randint, randn, randperm, tensor, zeros, zeros_like)
from .dtypes import DType, bool_, float16, float32, float64, int32, int64
from .function import Context, Function
from .functional import hessian, jacobian
from .functions import (abs, argmax, argmin, broadcast_to, clip, concat, cos, erf, exp,
                        flatten, linear, log, log1p, log_softmax, logsumexp, matmul, max,
                        maximum, mean, min, minimum, relu, reshape, sigmoid, sign, sin,
                        softmax, sqrt, squeeze, stack, std, sum, svd, swapaxes, tanh,
                        transpose, unsqueeze, var, where)
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck, gradgradcheck
from . import jit  # noqa: E402  (after the ops it traces)

__all__ = [
    "abs", "arange", "argmax", "argmin", "bool_", "broadcast_to", "clip", "concat", "Context",
    "cos", "DType", "enable_grad", "erf", "exp", "eye", "flatten", "float16", "float32",
    "float64", "from_numpy", "full", "Function", "grad", "gradcheck", "GradcheckError",
    "gradgradcheck", "hessian", "int32", "int64", "is_grad_enabled", "jacobian", "jit",
    "linear", "log", "log1p", "log_softmax", "logsumexp", "manual_seed", "matmul", "max",
    "maximum", "mean", "min", "minimum", "no_grad", "ones", "ones_like", "rand", "randint",
    "randn", "randperm", "relu", "reshape", "set_grad_enabled", "sigmoid", "sign", "sin",
    "softmax", "sqrt", "squeeze", "stack", "std", "sum", "svd", "swapaxes", "tanh", "Tensor",
    "tensor", "transpose", "unsqueeze", "var", "where", "zeros", "zeros_like",
]

# ---------------------------------------------------------------- PyTorch spellings
from .grad_mode import inference_mode  # noqa: E402
from .version import __version__  # noqa: E402

__distribution__ = "pluggrad"  # what `nn` checks: backends/family.py
cat = concat  # PyTorch's name; takes dim= too

__all__ += ["cat", "inference_mode"]
