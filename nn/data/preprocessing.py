"""Feature preprocessing fitted on training data: standardisation and PCA.

Both follow scikit-learn's shape of things: `fit` learns from the training samples (rows)
and returns the object, `transform` applies what was learnt to any data, and
`inverse_transform` maps back. The fitted statistics are constants; gradients flow
through `transform` to its input."""

import autograd as ag


class _Fitted:
    """Checks shared by the transformers: fit on a matrix first, then use on data with the
    same number of features."""

    def _check_input(self, op, X):
        if not isinstance(X, ag.Tensor):
            raise TypeError(f"{type(self).__name__}.{op}: X must be a Tensor, "
                            f"got {type(X).__name__}")
        if X.ndim != 2:
            raise ValueError(f"{type(self).__name__}.{op}: X must be a matrix of shape "
                             f"(samples, features), got shape {tuple(X.shape)}")

    def _check_fitted(self, op, X, features):
        self._check_input(op, X)
        if self.mean_ is None:
            raise RuntimeError(f"{type(self).__name__}.{op}: not fitted yet; call "
                               f"fit(X_train) first")
        if X.shape[1] != features:
            raise ValueError(f"{type(self).__name__}.{op}: X has {X.shape[1]} features "
                             f"(columns) but {features} were expected")

    def _features(self):
        """The number of features seen by fit (None before it)."""
        return None if self.mean_ is None else self.mean_.shape[0]

    def fit_transform(self, X):
        return self.fit(X).transform(X)


class StandardScaler(_Fitted):
    """Shift each feature to mean 0 and scale it to standard deviation 1 (population std,
    ddof=0). A constant feature gets scale 1, so it becomes 0 instead of dividing by 0."""

    def __init__(self):
        self.mean_ = None
        self.scale_ = None

    def fit(self, X):
        self._check_input("fit", X)
        if X.shape[0] == 0:
            raise ValueError("StandardScaler.fit: X has no samples")
        with ag.no_grad():
            X = X.detach()
            constant = X.max(axis=0) == X.min(axis=0)
            self.mean_ = X.mean(axis=0)
            self.scale_ = ag.where(constant, 1.0, X.std(axis=0))
        return self

    def transform(self, X):
        self._check_fitted("transform", X, self._features())
        return (X - self.mean_) / self.scale_

    def inverse_transform(self, X):
        self._check_fitted("inverse_transform", X, self._features())
        return X * self.scale_ + self.mean_


class PCA(_Fitted):
    """Project onto the `n_components` directions of largest variance, found by the SVD of
    the centred training data.

    Each component's sign is fixed so that its largest entry (in absolute value) is
    positive, as scikit-learn does, so the result does not depend on the SVD routine.
    `explained_variance_` is the variance along each component (ddof=1)."""

    def __init__(self, n_components):
        if isinstance(n_components, bool) or not isinstance(n_components, int) \
                or n_components < 1:
            raise ValueError(f"PCA: n_components must be a positive integer, "
                             f"got {n_components!r}")
        self.n_components = n_components
        self.mean_ = None
        self.components_ = None
        self.explained_variance_ = None
        self.singular_values_ = None

    def fit(self, X):
        self._check_input("fit", X)
        samples, features = X.shape
        if self.n_components > min(samples, features):
            raise ValueError(f"PCA.fit: n_components={self.n_components} exceeds "
                             f"min(samples, features) = min{tuple(X.shape)}")
        with ag.no_grad():
            X = X.detach()
            self.mean_ = X.mean(axis=0)
            _, singular_values, vh = ag.svd(X - self.mean_)
            components = vh[:self.n_components]
            largest = components.abs().argmax(axis=1)
            rows = ag.arange(self.n_components, backend=X.backend)
            components = components * components[rows, largest].sign().unsqueeze(1)
            self.components_ = components
            self.singular_values_ = singular_values[:self.n_components]
            self.explained_variance_ = self.singular_values_ ** 2 / max(samples - 1, 1)
        return self

    def transform(self, X):
        self._check_fitted("transform", X, self._features())
        return (X - self.mean_) @ self.components_.T

    def inverse_transform(self, Z):
        self._check_fitted("inverse_transform", Z, self.n_components)
        return Z @ self.components_ + self.mean_
