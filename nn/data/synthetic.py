"""The point sets of TensorFlow Playground: four with two classes (circle, xor, gauss and
spiral) and two for regression (a plane and six Gaussian bumps).

Each returns `X`, float32 of shape (n, 2) with every coordinate in [-6, 6], and labels `y`,
float32 of shape (n,): in {0, 1} for the classes, in [-1, 1] for the regression targets.
`noise` runs from 0 (a clean pattern) to 1 and means what it means in the playground, where
the panel's 0 to 50% is 0 to 0.5 here. The points are drawn with a `random.Random`, from
`seed` when one is given (the same points on every backend), else from the default
backend's stream."""

import math

import autograd as ag

from .sampling import generator

LIMIT = 6.0  # every coordinate lies in [-LIMIT, LIMIT]


def make_circle(n=200, noise=0.0, seed=None, backend=None):
    """A disc of radius 2.5 (label 1) inside a ring from 3.5 to 5 (label 0). A point's label
    is decided at its position moved by noise, so noise blurs the class boundary."""
    rng = _start("make_circle", n, noise, seed)
    radius = 5.0
    points = []
    for count, (r_low, r_high) in ((n - n // 2, (0.0, 0.5 * radius)),
                                   (n // 2, (0.7 * radius, radius))):
        for _ in range(count):
            r = rng.uniform(r_low, r_high)
            angle = rng.uniform(0.0, 2 * math.pi)
            x, y = r * math.sin(angle), r * math.cos(angle)
            moved_x = x + rng.uniform(-radius, radius) * noise
            moved_y = y + rng.uniform(-radius, radius) * noise
            points.append((x, y, math.hypot(moved_x, moved_y) < 0.5 * radius))
    return _tensors(points, backend)


def make_xor(n=200, noise=0.0, seed=None, backend=None):
    """Points in the four quadrants, kept 0.3 away from the axes: label 1 where x and y have
    the same sign. The label is taken at the position moved by noise."""
    rng = _start("make_xor", n, noise, seed)
    padding = 0.3
    points = []
    for _ in range(n):
        x, y = rng.uniform(-5.0, 5.0), rng.uniform(-5.0, 5.0)
        x += padding if x > 0 else -padding
        y += padding if y > 0 else -padding
        moved_x = x + rng.uniform(-5.0, 5.0) * noise
        moved_y = y + rng.uniform(-5.0, 5.0) * noise
        points.append((x, y, moved_x * moved_y >= 0))
    return _tensors(points, backend)


def make_gauss(n=200, noise=0.0, seed=None, backend=None):
    """Two Gaussian clouds centred at (2, 2) (label 1) and (-2, -2) (label 0). Noise widens
    them: the variance grows from 0.5 at noise 0 to 4 at noise 0.5. Coordinates are clipped
    to [-6, 6]."""
    rng = _start("make_gauss", n, noise, seed)
    std = math.sqrt(0.5 + 7.0 * noise)
    points = []
    for count, centre, label in ((n - n // 2, 2.0, True), (n // 2, -2.0, False)):
        for _ in range(count):
            x, y = rng.gauss(centre, std), rng.gauss(centre, std)
            points.append((_clip(x), _clip(y), label))
    return _tensors(points, backend)


def make_spiral(n=200, noise=0.0, seed=None, backend=None):
    """Two interleaved spirals, each turning 1.75 times around the origin out to radius 5,
    the second (label 0) rotated half a turn from the first (label 1). Noise moves each
    point by up to `noise` in x and y."""
    rng = _start("make_spiral", n, noise, seed)
    points = []
    for count, turn, label in ((n - n // 2, 0.0, True), (n // 2, math.pi, False)):
        for i in range(count):
            r = i / count * 5.0
            t = 1.75 * i / count * 2 * math.pi + turn
            x = r * math.sin(t) + rng.uniform(-1.0, 1.0) * noise
            y = r * math.cos(t) + rng.uniform(-1.0, 1.0) * noise
            points.append((x, y, label))
    return _tensors(points, backend)


def make_reg_plane(n=200, noise=0.0, seed=None, backend=None):
    """Points spread evenly over the square, each with the target (x1 + x2) / 10: a tilted
    plane from -1 in one corner to 1 in the other (clipped there). The target is taken at
    the position moved by noise."""
    rng = _start("make_reg_plane", n, noise, seed)
    points = []
    for _ in range(n):
        x, y = rng.uniform(-LIMIT, LIMIT), rng.uniform(-LIMIT, LIMIT)
        moved_x = x + rng.uniform(-LIMIT, LIMIT) * noise
        moved_y = y + rng.uniform(-LIMIT, LIMIT) * noise
        points.append((x, y, min(max((moved_x + moved_y) / 10, -1.0), 1.0)))
    return _tensors(points, backend)


# TensorFlow Playground's six bumps: centre x1, centre x2 and the sign of the target there.
_BUMPS = ((-4.0, 2.5, 1.0), (0.0, 2.5, -1.0), (4.0, 2.5, 1.0),
          (-4.0, -2.5, -1.0), (0.0, -2.5, 1.0), (4.0, -2.5, -1.0))


def make_reg_gauss(n=200, noise=0.0, seed=None, backend=None):
    """Points spread evenly over the square under six bumps, alternately up (target 1 at the
    centre) and down (-1), each falling linearly to 0 at distance 2 from its centre; where
    bumps meet, the one of largest magnitude wins. The target is taken at the position
    moved by noise."""
    rng = _start("make_reg_gauss", n, noise, seed)
    points = []
    for _ in range(n):
        x, y = rng.uniform(-LIMIT, LIMIT), rng.uniform(-LIMIT, LIMIT)
        moved_x = x + rng.uniform(-LIMIT, LIMIT) * noise
        moved_y = y + rng.uniform(-LIMIT, LIMIT) * noise
        points.append((x, y, _bump_height(moved_x, moved_y)))
    return _tensors(points, backend)


def _bump_height(x, y):
    height = 0.0
    for centre_x, centre_y, sign in _BUMPS:
        bump = sign * max(0.0, 1.0 - math.hypot(x - centre_x, y - centre_y) / 2)
        if abs(bump) > abs(height):
            height = bump
    return height


def _start(op, n, noise, seed):
    """Check the common arguments and return the random generator to draw from."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 2:
        raise ValueError(f"{op}: n must be an integer of at least 2 (a point per class), "
                         f"got {n!r}")
    if isinstance(noise, bool) or not isinstance(noise, int | float) or not 0 <= noise <= 1:
        raise ValueError(f"{op}: noise must be a number from 0 to 1, got {noise!r}")
    return generator(seed)


def _clip(value):
    return min(max(value, -LIMIT), LIMIT)


def _tensors(points, backend):
    X = ag.tensor([(x, y) for x, y, _ in points], dtype=ag.float32, backend=backend)
    y = ag.tensor([float(target) for _, _, target in points], dtype=ag.float32,
                  backend=backend)
    return X, y
