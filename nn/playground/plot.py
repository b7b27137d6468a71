"""The playground picture: the decision map with the points over it, and the loss curves.

Drawn with matplotlib (the `plot` extra) through its object API (no pyplot), so several
pictures can be drawn at once, by a server, without a display."""

from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from .session import EXTENT

ORANGE, BLUE = "#f59322", "#0877bd"  # labels 0 and 1, as in TensorFlow Playground
COLORMAP = LinearSegmentedColormap.from_list("playground", [ORANGE, "#f7f7f7", BLUE])


def draw(session, path, resolution=200):
    """Write the session's picture to `path` (a PNG): on the left, the predicted
    probability of label 1 over [-6, 6]^2 as a heat map from orange (0) to blue (1), with
    the training points as filled dots and the test points as dots ringed in black; on the
    right, the train and test loss per epoch."""
    figure = Figure(figsize=(11, 5), layout="constrained")
    boundary, losses = figure.subplots(1, 2, width_ratios=(1, 1.2))
    _draw_map(boundary, session, resolution)
    _draw_losses(losses, session.history)
    config = session.config
    hidden = ",".join(map(str, config.hidden)) or "none"
    figure.suptitle(f"{config.dataset}, noise {config.noise}, features "
                    f"{', '.join(config.features)}, hidden {hidden}, {config.activation}")
    figure.savefig(path, dpi=100)


def _draw_map(axes, session, resolution):
    probabilities = session.predict_grid(resolution).tolist()
    image = axes.imshow(probabilities, origin="lower", extent=(-EXTENT, EXTENT) * 2,
                        cmap=COLORMAP, vmin=0.0, vmax=1.0, interpolation="bilinear")
    axes.figure.colorbar(image, ax=axes, shrink=0.8, label="predicted probability of label 1")
    edges = {"train": "white", "test": "black"}
    for name, points, labels in (("train", session.train_points, session.train_labels),
                                 ("test", session.test_points, session.test_labels)):
        x1, x2 = points.T.tolist()
        colors = [BLUE if label > 0.5 else ORANGE for label in labels.tolist()]
        axes.scatter(x1, x2, c=colors, s=12, edgecolors=edges[name], linewidths=0.6)
    axes.set(xlim=(-EXTENT, EXTENT), ylim=(-EXTENT, EXTENT), xlabel="x1", ylabel="x2",
             aspect="equal")
    axes.legend(handles=[Line2D([], [], linestyle="", marker="o", markerfacecolor="gray",
                                markeredgecolor=edge, label=f"{name} points")
                         for name, edge in edges.items()],
                loc="upper right", fontsize="small", facecolor="#dddddd")

def _draw_losses(axes, history):
    epochs = range(1, len(history.train_loss) + 1)
    axes.plot(epochs, history.train_loss, color="#555555", label="train loss")
    axes.plot(epochs, history.test_loss, color="black", linestyle="--", label="test loss")
    accuracy = history.metrics.get("test_accuracy")
    if accuracy:
        axes.set_title(f"test accuracy {100 * accuracy[-1]:.1f}%")
    axes.set(xlabel="epoch", ylabel="loss (binary cross-entropy)", yscale="log")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend()
