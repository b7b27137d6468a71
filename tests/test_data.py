"""nn.data: datasets, the loader, splits, preprocessing and the playground point sets,
checked against NumPy computations."""

import numpy as np
import pytest

import autograd as ag
from nn.data import (
    PCA,
    DataLoader,
    Dataset,
    StandardScaler,
    TensorDataset,
    make_circle,
    make_gauss,
    make_spiral,
    make_xor,
    train_test_split,
)

MAKERS = [make_circle, make_xor, make_gauss, make_spiral]


def numbered(n, backend=None):
    """Inputs whose first column is the sample's position, and targets 10 * position, so a
    batch tells which samples it holds and whether rows stayed paired."""
    X = ag.tensor(np.stack([np.arange(n), -np.arange(n)], axis=1).astype(np.float32),
                  backend=backend)
    y = ag.tensor(10 * np.arange(n, dtype=np.float32), backend=backend)
    return X, y


def epoch_positions(loader):
    positions = []
    for X, y in loader:
        np.testing.assert_array_equal(y.numpy(), 10 * X.numpy()[:, 0])
        positions.append(X.numpy()[:, 0].astype(int).tolist())
    return positions


# ---------------------------------------------------------------- DataLoader
@pytest.mark.parametrize("n, batch_size", [(10, 3), (12, 4), (7, 10), (5, 1)])
@pytest.mark.parametrize("seed", [None, 3])
def test_shuffled_loader_yields_every_sample_once_per_epoch(backend, n, batch_size, seed):
    loader = DataLoader(TensorDataset(*numbered(n)), batch_size=batch_size, shuffle=True,
                        seed=seed)
    assert len(loader) == -(-n // batch_size)
    for _ in range(3):
        batches = epoch_positions(loader)
        assert len(batches) == len(loader)
        assert [len(b) for b in batches[:-1]] == [batch_size] * (len(batches) - 1)
        assert sorted(p for b in batches for p in b) == list(range(n))


def test_loader_batches_stay_on_the_data_backend(backend):
    X, y = numbered(9)
    for xb, yb in DataLoader(TensorDataset(X, y), batch_size=4, shuffle=True, seed=0):
        assert xb.backend is X.backend and yb.backend is X.backend
        assert xb.dtype == X.dtype and yb.dtype == y.dtype


def test_unshuffled_loader_keeps_the_dataset_order():
    loader = DataLoader(TensorDataset(*numbered(7)), batch_size=3)
    assert epoch_positions(loader) == [[0, 1, 2], [3, 4, 5], [6]]


@pytest.mark.parametrize("shuffle", [False, True])
def test_drop_last_leaves_out_the_short_batch(shuffle):
    loader = DataLoader(TensorDataset(*numbered(10)), batch_size=4, shuffle=shuffle,
                        drop_last=True, seed=1)
    assert len(loader) == 2
    batches = epoch_positions(loader)
    assert [len(b) for b in batches] == [4, 4]
    assert len({p for b in batches for p in b}) == 8
    exact = DataLoader(TensorDataset(*numbered(8)), batch_size=4, drop_last=True)
    assert len(exact) == 2 and len(epoch_positions(exact)) == 2


def test_same_seed_gives_the_same_orders_and_each_epoch_reshuffles():
    def orders(seed):
        loader = DataLoader(TensorDataset(*numbered(30)), batch_size=7, shuffle=True,
                            seed=seed)
        return [epoch_positions(loader) for _ in range(3)]

    first, again, other = orders(5), orders(5), orders(6)
    assert first == again
    assert first != other
    assert first[0] != first[1] != first[2]


def test_unseeded_shuffle_follows_manual_seed():
    def order():
        ag.manual_seed(11)
        return epoch_positions(DataLoader(TensorDataset(*numbered(20)), batch_size=20,
                                          shuffle=True))

    assert order() == order()


class Pairs(Dataset):
    """A custom dataset: sample i is (a vector, a number) or a dict of them."""

    def __init__(self, n, as_dict=False):
        self.n, self.as_dict = n, as_dict

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        vector = ag.tensor([float(i), 2.0 * i])
        return {"x": vector, "label": i} if self.as_dict else (vector, float(i))


def test_custom_dataset_samples_are_stacked_field_by_field():
    batches = list(DataLoader(Pairs(5), batch_size=2))
    assert len(batches) == 3
    vectors, labels = batches[1]
    np.testing.assert_array_equal(vectors.numpy(), np.array([[2.0, 4.0], [3.0, 6.0]]))
    np.testing.assert_array_equal(labels.numpy(), np.array([2.0, 3.0]))
    seen = [int(v) for _, labels in DataLoader(Pairs(9), 4, shuffle=True, seed=2)
            for v in labels.tolist()]
    assert sorted(seen) == list(range(9))
    batch = next(iter(DataLoader(Pairs(3, as_dict=True), batch_size=3)))
    np.testing.assert_array_equal(batch["x"].numpy()[:, 1], np.array([0.0, 2.0, 4.0]))
    np.testing.assert_array_equal(batch["label"].numpy(), np.array([0, 1, 2]))


def test_dataset_base_class_says_what_to_define():
    with pytest.raises(NotImplementedError, match="__len__"):
        len(Dataset())


def test_loader_and_dataset_reject_bad_arguments():
    X, y = numbered(4)
    with pytest.raises(ValueError, match="batch_size"):
        DataLoader(TensorDataset(X), batch_size=0)
    with pytest.raises(TypeError, match="__len__"):
        DataLoader(object())
    with pytest.raises(ValueError, match="different numbers of samples"):
        TensorDataset(X, y[:3])
    with pytest.raises(TypeError, match="not a Tensor"):
        TensorDataset(X, [1, 2, 3, 4])


# ---------------------------------------------------------------- train_test_split
def test_split_keeps_rows_paired_and_covers_every_sample(backend):
    X, y = numbered(20)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_ratio=0.25, seed=4)
    assert X_train.shape == (15, 2) and X_test.shape == (5, 2)
    assert y_train.shape == (15,) and y_test.shape == (5,)
    assert X_train.backend is X.backend
    np.testing.assert_array_equal(y_train.numpy(), 10 * X_train.numpy()[:, 0])
    np.testing.assert_array_equal(y_test.numpy(), 10 * X_test.numpy()[:, 0])
    positions = np.concatenate([X_train.numpy()[:, 0], X_test.numpy()[:, 0]])
    np.testing.assert_array_equal(np.sort(positions), np.arange(20))
    assert not np.array_equal(X_test.numpy()[:, 0], np.arange(15, 20))


def test_split_is_reproducible_for_a_seed():
    X, y = numbered(50)
    first = train_test_split(X, y, seed=1)[1].numpy()
    np.testing.assert_array_equal(first, train_test_split(X, y, seed=1)[1].numpy())
    assert not np.array_equal(first, train_test_split(X, y, seed=2)[1].numpy())


@pytest.mark.parametrize("ratio", [0.0, 1.0, -0.5, 0.01])
def test_split_rejects_ratios_that_leave_a_part_empty(ratio):
    with pytest.raises(ValueError, match="test_ratio"):
        train_test_split(*numbered(10), test_ratio=ratio)


# ---------------------------------------------------------------- StandardScaler
def test_standard_scaler_matches_numpy(backend):
    data = np.random.default_rng(0).normal([1.0, -3.0, 5.0], [2.0, 0.5, 10.0], (40, 3))
    data[:, 1] = 7.25  # a constant feature
    X = ag.tensor(data, dtype="float64")
    scaler = StandardScaler()
    assert scaler.fit(X) is scaler
    expected_scale = np.where(data.std(axis=0) == 0, 1.0, data.std(axis=0))
    np.testing.assert_allclose(scaler.mean_.numpy(), data.mean(axis=0), rtol=1e-12)
    np.testing.assert_allclose(scaler.scale_.numpy(), expected_scale, rtol=1e-12)
    Z = scaler.transform(X)
    np.testing.assert_allclose(Z.numpy(), (data - data.mean(axis=0)) / expected_scale,
                               rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(Z.numpy()[:, 1], 0.0)
    np.testing.assert_allclose(scaler.inverse_transform(Z).numpy(), data, rtol=1e-12)
    np.testing.assert_allclose(StandardScaler().fit_transform(X).numpy(), Z.numpy())


def test_standard_scaler_applies_training_statistics_to_new_data():
    rng = np.random.default_rng(1)
    train, test = rng.normal(4.0, 3.0, (30, 2)), rng.normal(0.0, 1.0, (5, 2))
    scaler = StandardScaler().fit(ag.tensor(train, dtype="float64"))
    np.testing.assert_allclose(scaler.transform(ag.tensor(test, dtype="float64")).numpy(),
                               (test - train.mean(axis=0)) / train.std(axis=0), rtol=1e-10)


def test_transformers_must_be_fitted_first():
    X = ag.randn(5, 3)
    for transformer in (StandardScaler(), PCA(2)):
        with pytest.raises(RuntimeError, match="fit"):
            transformer.transform(X)
        with pytest.raises(RuntimeError, match="fit"):
            transformer.inverse_transform(X)
    with pytest.raises(ValueError, match="features"):
        StandardScaler().fit(X).transform(ag.randn(5, 4))


# ---------------------------------------------------------------- PCA
def numpy_pca(data, k):
    """PCA written out with NumPy: SVD of the centred data, each component signed so that
    its largest entry is positive."""
    mean = data.mean(axis=0)
    _, s, vh = np.linalg.svd(data - mean, full_matrices=False)
    components = vh[:k]
    signs = np.sign(components[np.arange(k), np.abs(components).argmax(axis=1)])
    return mean, components * signs[:, None], s[:k] ** 2 / (len(data) - 1)


def test_pca_matches_numpy(backend):
    rng = np.random.default_rng(2)
    data = rng.normal(size=(60, 4)) @ rng.normal(size=(4, 4)) + [1.0, 2.0, -1.0, 0.5]
    X = ag.tensor(data, dtype="float64")
    pca = PCA(2)
    assert pca.fit(X) is pca
    mean, components, variance = numpy_pca(data, 2)
    np.testing.assert_allclose(pca.components_.numpy(), components, atol=1e-10)
    np.testing.assert_allclose(pca.explained_variance_.numpy(), variance, rtol=1e-10)
    Z = pca.transform(X)
    np.testing.assert_allclose(Z.numpy(), (data - mean) @ components.T, atol=1e-10)
    np.testing.assert_allclose(pca.inverse_transform(Z).numpy(),
                               (data - mean) @ components.T @ components + mean, atol=1e-10)
    np.testing.assert_allclose(PCA(2).fit_transform(X).numpy(), Z.numpy(), atol=1e-10)
    # independent reference: the leading eigenpairs of the covariance matrix
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(data.T))
    np.testing.assert_allclose(pca.explained_variance_.numpy(), eigenvalues[::-1][:2],
                               rtol=1e-8)
    overlap = np.abs(np.sum(pca.components_.numpy() * eigenvectors[:, ::-1][:, :2].T, axis=1))
    np.testing.assert_allclose(overlap, 1.0, rtol=1e-8)


def test_pca_with_every_component_reconstructs_the_data():
    data = np.random.default_rng(3).normal(size=(10, 3))
    X = ag.tensor(data, dtype="float64")
    pca = PCA(3).fit(X)
    np.testing.assert_allclose(pca.inverse_transform(pca.transform(X)).numpy(), data,
                               atol=1e-12)


def test_pca_rejects_bad_component_counts():
    with pytest.raises(ValueError, match="n_components"):
        PCA(0)
    with pytest.raises(ValueError, match="n_components=4"):
        PCA(4).fit(ag.randn(10, 3))
    with pytest.raises(ValueError, match="features"):
        PCA(1).fit(ag.randn(10, 3)).transform(ag.randn(2, 2))


# ---------------------------------------------------------------- playground point sets
@pytest.mark.parametrize("make", MAKERS)
@pytest.mark.parametrize("noise", [0.0, 0.5, 1.0])
def test_point_sets_have_the_playground_shape(make, noise):
    X, y = make(201, noise=noise, seed=0)
    assert X.shape == (201, 2) and y.shape == (201,)
    assert X.dtype == ag.float32 and y.dtype == ag.float32
    points, labels = X.numpy(), y.numpy()
    assert np.all(np.abs(points) <= 6.0)
    assert set(np.unique(labels)) <= {0.0, 1.0}
    if noise <= 0.5:  # the playground's range; beyond it the circle's labels drift to 0
        assert 0.3 < labels.mean() < 0.7


@pytest.mark.parametrize("make", MAKERS)
def test_point_sets_are_reproducible_for_a_seed_on_every_backend(backend, make):
    X, y = make(50, noise=0.2, seed=7)
    assert X.backend.name == backend
    with ag.no_grad():
        X_numpy, y_numpy = make(50, noise=0.2, seed=7, backend="numpy")
    np.testing.assert_array_equal(X.numpy(), X_numpy.numpy())
    np.testing.assert_array_equal(y.numpy(), y_numpy.numpy())
    assert not np.array_equal(X.numpy(), make(50, noise=0.2, seed=8)[0].numpy())


def test_clean_circle_labels_the_inner_disc():
    X, y = make_circle(300, seed=1)
    radius = np.hypot(*X.numpy().T)
    np.testing.assert_array_equal(y.numpy(), (radius < 2.5).astype(np.float32))
    assert np.all((radius < 2.5) | ((radius >= 3.5) & (radius <= 5.0)))


def test_clean_xor_labels_quadrants_with_equal_signs():
    X, y = make_xor(300, seed=1)
    x1, x2 = X.numpy().T
    np.testing.assert_array_equal(y.numpy(), (x1 * x2 >= 0).astype(np.float32))
    assert np.all(np.abs(X.numpy()) >= 0.3)


def test_gauss_clouds_sit_at_their_centres():
    X, y = make_gauss(2000, noise=0.0, seed=1)
    points, labels = X.numpy(), y.numpy()
    np.testing.assert_allclose(points[labels == 1].mean(axis=0), [2.0, 2.0], atol=0.1)
    np.testing.assert_allclose(points[labels == 0].mean(axis=0), [-2.0, -2.0], atol=0.1)
    np.testing.assert_allclose(points[labels == 1].var(axis=0), [0.5, 0.5], rtol=0.15)


def test_clean_spirals_are_point_reflections_of_each_other():
    X, y = make_spiral(200, seed=1)
    points, labels = X.numpy(), y.numpy()
    np.testing.assert_allclose(points[labels == 0], -points[labels == 1], atol=1e-5)
    assert np.hypot(*points.T).max() < 5.0


def test_noise_moves_spiral_points_by_at_most_noise():
    clean, _ = make_spiral(100, noise=0.0, seed=1)
    noisy, _ = make_spiral(100, noise=0.3, seed=1)
    shift = np.abs(noisy.numpy() - clean.numpy())
    assert shift.max() <= 0.3 + 1e-6 and shift.max() > 0.1


@pytest.mark.parametrize("make", MAKERS)
def test_point_sets_reject_bad_arguments(make):
    with pytest.raises(ValueError, match="noise"):
        make(10, noise=1.5)
    with pytest.raises(ValueError, match="n must"):
        make(1)
