"""The browser page's sessions: one per page, each training its own Session in its own
thread, and the bounded registry that keeps them.

A page's requests (play, step, new settings) arrive on the server's threads while its
Session may be training on the session's thread, so every use of the Session holds the
session's lock, one epoch at a time. What the page is shown is a Snapshot: an immutable
record of the losses and maps, made on the training thread at most once per update period,
that the event stream only reads."""

import base64
import math
import secrets
import threading
import time
from dataclasses import dataclass, replace

import autograd as ag

from .session import EXTENT, Session
from .web_settings import MAX_SEED

WORKER_PREFIX = "playground-training-"

# Session() seeds every backend's random stream before drawing the initial weights; two
# sessions built at once would interleave their draws, so builds take turns.
_BUILD_LOCK = threading.Lock()


class SessionLimitError(RuntimeError):
    """The server already runs as many sessions as its limits allow."""


class EpochLimitError(RuntimeError):
    """A session has trained as many epochs as the server's limits allow."""


@dataclass(frozen=True)
class Scene:
    """What stays fixed for one Session: its settings, the points and the input features'
    maps. `serial` tells the page when a new Session replaced the one it drew."""

    serial: int
    settings: dict
    points: dict
    feature_maps: list
    extent: float = EXTENT


@dataclass(frozen=True)
class Snapshot:
    """The state of training when it was taken: `version` grows with each snapshot."""

    version: int
    scene: Scene
    epoch: int
    playing: bool
    notice: str
    train_loss: tuple
    test_loss: tuple
    test_accuracy: float | None
    output_map: str
    neuron_maps: list


class LiveSession:
    """One page's settings, the Session they make, and a thread that trains it while the
    page says play."""

    def __init__(self, settings, limits):
        self.id = secrets.token_urlsafe(12)
        self.limits = limits
        self.settings = settings
        self.last_active = time.monotonic()
        self.streams = 0
        self.closed = False
        self._lock = threading.Lock()
        self._worker = None
        self._playing = False
        self._notice = ""
        self._serial = 0
        self._version = 0
        self._last_publish = 0.0
        with self._lock:
            self._rebuild(settings)

    def touch(self):
        """Mark the session as in use now, for the idle check."""
        self.last_active = time.monotonic()

    def configure(self, settings):
        """Start over from `settings` (already checked), paused, as a new Session."""
        self._stop_training()
        with self._lock:
            self._rebuild(settings)

    def reset(self):
        """Start over with the same settings: the same points and initial weights."""
        self.configure(self.settings)

    def regenerate(self):
        """Start over with new points (and new initial weights): the next seed."""
        config = self.settings.config
        self.configure(replace(self.settings,
                               config=replace(config, seed=(config.seed + 1) % (MAX_SEED + 1))))

    def play(self):
        """Train epoch after epoch on the session's thread until paused."""
        with self._lock:
            self._check_epoch_limit()
            self._playing = True
            if self._worker is None:
                self._worker = threading.Thread(target=self._train, daemon=True,
                                                name=WORKER_PREFIX + self.id)
                self._worker.start()
            self._publish()

    def pause(self):
        self._stop_training()
        with self._lock:
            self._publish()

    def step(self):
        """Pause, then train one epoch."""
        self._stop_training()
        with self._lock:
            self._check_epoch_limit()
            self.session.step()
            self._publish()

    def close(self):
        """Stop training for good. Takes no lock, so the event loop can call it without
        waiting for the current epoch."""
        self.closed = True
        self._stop_training()

    def _stop_training(self):
        # Said without the lock, which the training thread takes back after each epoch
        # before a waiting thread can get it: seeing this, it lets go after this epoch.
        self._playing = False

    def _train(self):
        try:
            while True:
                with self._lock:
                    if self.closed or not self._playing:
                        # Decided under the lock, so that a play() after it starts a thread.
                        self._worker = None
                        return
                    self.session.step()
                    if self.session.epoch >= self.limits.max_epochs:
                        self._playing = False
                        self._notice = (f"paused at {self.limits.max_epochs} epochs, the most "
                                        f"this server trains; reset to train again")
                    if (not self._playing or time.monotonic() - self._last_publish
                            >= self.limits.update_seconds):
                        self._publish()
        except Exception as error:
            with self._lock:
                self._worker = None
                self._playing = False
                self._notice = f"training stopped: {type(error).__name__}: {error}"
                self._publish()
            raise

    def _check_epoch_limit(self):
        if self.session.epoch >= self.limits.max_epochs:
            raise EpochLimitError(f"the session has trained {self.session.epoch} epochs, the "
                                  f"most this server allows; reset to train again")

    def _rebuild(self, settings):
        with _BUILD_LOCK:
            session = Session(settings.config)
        self.session, self.settings = session, settings
        self._playing = False
        self._notice = ""
        self._serial += 1
        self.scene = Scene(self._serial, settings.to_json(), _points(session),
                           _feature_maps(session, self.limits.neuron_resolution))
        self._publish()

    def _publish(self):
        session = self.session
        history = session.history
        accuracy = history.metrics.get("test_accuracy")
        self._version += 1
        self._last_publish = time.monotonic()
        self.snapshot = Snapshot(
            version=self._version, scene=self.scene, epoch=session.epoch,
            playing=self._playing, notice=self._notice,
            train_loss=tuple(history.train_loss), test_loss=tuple(history.test_loss),
            test_accuracy=accuracy[-1] if accuracy else None,
            output_map=encode_map(session.predict_grid(self.settings.resolution), 0.0, 1.0),
            neuron_maps=[[encode_map(unit, -1.0, 1.0) for unit in layer]
                         for layer in session.hidden_grids(self.limits.neuron_resolution)])


def encode_map(values, low, high):
    """A map's values as base64 text of one byte each, row by row: `low` is 0 and `high`
    255, values beyond are clipped, and a NaN (a diverged network) sits in the middle."""
    middle = (low + high) / 2
    values = ag.where(values == values, values, middle).clip(low, high)
    levels = ((values - low) * (255 / (high - low)) + 0.5).astype(ag.int64)
    return base64.b64encode(bytes(levels.flatten().tolist())).decode("ascii")


def _points(session):
    """The training and test points as [x1, x2, label] lists, rounded for the page."""
    def rows(points, labels):
        return [[round(x1, 3), round(x2, 3), int(label)]
                for (x1, x2), label in zip(points.tolist(), labels.tolist())]
    return {"train": rows(session.train_points, session.train_labels),
            "test": rows(session.test_points, session.test_labels)}


def _feature_maps(session, resolution):
    """Each input feature over the grid, as the network sees it (standardised), each scaled
    by its largest magnitude on the grid so that every map shows its shape."""
    features = session.features(session.grid_points(resolution))
    maps = []
    for column in features.T:
        scale = float(column.abs().max().item()) or 1.0
        maps.append(encode_map(column.reshape(resolution, resolution), -scale, scale))
    return maps


def finite_or_none(value):
    """JSON has no NaN or infinity: a diverged loss is sent as null."""
    return value if value is not None and math.isfinite(value) else None


def update_message(snapshot, sent_serial, sent_epochs):
    """The event-stream message that brings a page from what it was last sent (the scene
    `sent_serial`, `sent_epochs` epochs of losses) to `snapshot`: only the new losses, and
    the scene only when it changed."""
    scene = snapshot.scene
    start = sent_epochs if scene.serial == sent_serial else 0
    message = {
        "serial": scene.serial, "epoch": snapshot.epoch, "playing": snapshot.playing,
        "notice": snapshot.notice, "test_accuracy": finite_or_none(snapshot.test_accuracy),
        "history": {"start": start,
                    "train": [finite_or_none(v) for v in snapshot.train_loss[start:]],
                    "test": [finite_or_none(v) for v in snapshot.test_loss[start:]]},
        "output": snapshot.output_map, "neurons": snapshot.neuron_maps,
    }
    if scene.serial != sent_serial:
        message["scene"] = {"settings": scene.settings, "points": scene.points,
                            "features": scene.feature_maps, "extent": scene.extent}
    return message


class SessionRegistry:
    """The live sessions by id, at most `limits.max_sessions`; idle ones are dropped."""

    def __init__(self, limits):
        self.limits = limits
        self._sessions = {}
        self._starting = 0
        self._lock = threading.Lock()

    def __len__(self):
        with self._lock:
            return len(self._sessions)

    def create(self, settings):
        """A new LiveSession for `settings`; SessionLimitError when the server is full."""
        with self._lock:
            self._drop_idle()
            if len(self._sessions) + self._starting >= self.limits.max_sessions:
                raise SessionLimitError(
                    f"this server already runs {self.limits.max_sessions} sessions, the most "
                    f"it allows; close another playground page, or wait: a page's session "
                    f"ends when the page closes, or after {self.limits.idle_seconds:g} s idle")
            self._starting += 1
        try:
            live = LiveSession(settings, self.limits)
        finally:
            with self._lock:
                self._starting -= 1
        with self._lock:
            self._sessions[live.id] = live
        return live

    def get(self, session_id):
        """The live session `session_id`, marked active; KeyError when there is none."""
        with self._lock:
            live = self._sessions[session_id]
        live.touch()
        return live

    def drop(self, session_id):
        """End the session `session_id`, if it is still there."""
        with self._lock:
            live = self._sessions.pop(session_id, None)
        if live is not None:
            live.close()

    def drop_idle(self):
        with self._lock:
            self._drop_idle()

    def close_all(self):
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for live in sessions:
            live.close()

    def _drop_idle(self):
        deadline = time.monotonic() - self.limits.idle_seconds
        for session_id, live in list(self._sessions.items()):
            if live.last_active < deadline:  # an open stream touches its session
                del self._sessions[session_id]
                live.close()
