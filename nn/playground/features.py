"""The playground's input features, computed from a point's coordinates (x1, x2).

A network with only x1 and x2 must learn curved boundaries itself; giving it squares,
products or sines lets a small network (or none) draw them."""

import autograd as ag

FEATURES = {
    "x1": lambda x1, x2: x1,
    "x2": lambda x1, x2: x2,
    "x1^2": lambda x1, x2: x1 * x1,
    "x2^2": lambda x1, x2: x2 * x2,
    "x1*x2": lambda x1, x2: x1 * x2,
    "sin(x1)": lambda x1, x2: ag.sin(x1),
    "sin(x2)": lambda x1, x2: ag.sin(x2),
}


def feature_matrix(points, names):
    """The features `names` of `points` (shape (n, 2)) as the columns of an (n, len(names))
    tensor."""
    unknown = [name for name in names if name not in FEATURES]
    if unknown:
        raise ValueError(f"features: unknown {unknown}; choose from {', '.join(FEATURES)}")
    x1, x2 = points[:, 0], points[:, 1]
    return ag.stack([FEATURES[name](x1, x2) for name in names], axis=1)
