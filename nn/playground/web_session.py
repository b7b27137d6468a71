"""The browser page's sessions: one per page, each training its own Session on its own
thread, and the bounded registry that keeps them.

A page's requests (play, step, new settings) arrive on the server's event loop while its
Session may be training. They never wait for the Session there: each becomes a command in
the session's short queue, which the session's thread runs in order between epochs, and the
request waits for its answer without holding any of the server's threads. A full queue is
refused at once, so one busy page cannot take the server. Ending a session stops its thread
within one batch and fails the commands still waiting.

What the page is shown is a Snapshot: an immutable record of the losses, maps and weights,
made on the session's thread at most once per update period, that the event stream only
reads."""

import base64
import collections
import logging
import math
import secrets
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, replace

import autograd as ag

from .features import FEATURES, feature_matrix
from .session import EXTENT, Session
from .web_settings import MAX_SEED

WORKER_PREFIX = "playground-training-"
COMMANDS = ("play", "pause", "step", "reset", "regenerate")
WEIGHT_DIGITS = 3

_log = logging.getLogger(__name__)

# Session() seeds every backend's random stream before drawing the initial weights; two
# sessions built at once would interleave their draws, so builds take turns.
_BUILD_LOCK = threading.Lock()


class SessionLimitError(RuntimeError):
    """The server already runs as many sessions as its limits allow."""


class EpochLimitError(RuntimeError):
    """A session has trained as many epochs as the server's limits allow."""


class CommandQueueFullError(RuntimeError):
    """A session already has as many commands waiting as the server's limits allow."""


class SessionEndedError(RuntimeError):
    """The session ended before it could run a command."""


class _Stopped(Exception):
    """Raised on the session's thread, between batches, once the session has ended."""


@dataclass(frozen=True)
class Scene:
    """What stays fixed for one Session: its settings, the points and every input
    feature's map. `serial` tells the page when a new Session replaced the one it drew."""

    serial: int
    settings: dict
    points: dict
    feature_maps: dict
    extent: float = EXTENT
    output_range: tuple = (0.0, 1.0)


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
    weights: list = ()


class LiveSession:
    """One page's settings, the Session they make, and a thread that runs the page's
    commands and trains while the page says play. The thread exists only while there is
    work: commands waiting, or playing."""

    def __init__(self, settings, limits):
        self.id = secrets.token_urlsafe(12)
        self.limits = limits
        self.settings = settings
        self.last_active = time.monotonic()
        self.streams = 0
        self.closed = False
        self.end_reason = ""
        self._queue_lock = threading.Lock()
        self._pending = collections.deque()
        self._worker = None
        self._playing = False
        self._notice = ""
        self._serial = 0
        self._version = 0
        self._last_publish = 0.0
        self._rebuild(settings)

    def touch(self):
        """Mark the session as in use now, for the idle check."""
        self.last_active = time.monotonic()

    def submit(self, command, *args):
        """Queue `command` ("configure" with new Settings, or one of COMMANDS) for the
        session's thread; a Future of its end. CommandQueueFullError when the queue is
        full, SessionEndedError when the session has ended."""
        action = getattr(self, f"_{command}")
        future = Future()
        with self._queue_lock:
            if self.closed:
                raise SessionEndedError(f"session {self.id!r} ended ({self.end_reason})")
            if len(self._pending) >= self.limits.max_queued_commands:
                raise CommandQueueFullError(
                    f"session {self.id!r} already has {len(self._pending)} commands waiting, "
                    f"the most this server queues; send the next once one is answered")
            self._pending.append((action, args, future))
            if self._worker is None:
                self._worker = threading.Thread(target=self._work, daemon=True,
                                                name=WORKER_PREFIX + self.id)
                self._worker.start()
        return future

    def close(self, reason):
        """End the session: its thread stops within one batch and the commands still
        waiting fail. Waits for nothing, so the event loop may call it."""
        with self._queue_lock:
            self.closed = True
            self.end_reason = reason
            waiting, self._pending = list(self._pending), collections.deque()
        for _, _, future in waiting:
            if future.set_running_or_notify_cancel():
                future.set_exception(SessionEndedError(
                    f"session {self.id!r} ended ({reason}) before the command ran"))

    # ------------------------------------------------------------ on the session's thread

    def _work(self):
        while True:
            with self._queue_lock:
                if self.closed or not (self._pending or self._playing):
                    # Decided under the lock, so that a command queued after it starts a
                    # new thread.
                    self._worker = None
                    return
                job = self._pending.popleft() if self._pending else None
            try:
                if job is None:
                    self._train_one_epoch()
                else:
                    self._run(*job)
            except _Stopped:
                continue  # the session ended: the loop's check lets the thread go

    def _run(self, action, args, future):
        if not future.set_running_or_notify_cancel():
            return  # its request went away
        try:
            action(*args)
        except _Stopped:
            future.set_exception(SessionEndedError(
                f"session {self.id!r} ended ({self.end_reason}) while the command ran"))
            raise
        except Exception as error:
            future.set_exception(error)
        else:
            future.set_result(None)

    def _check_open(self):
        """Called after every batch: stop if the session ended, and let the server's threads
        run (a training thread otherwise keeps the interpreter for whole switch intervals,
        and each request needs it many times)."""
        if self.closed:
            raise _Stopped
        time.sleep(0)

    def _train_one_epoch(self):
        try:
            self.session.step(on_batch=self._check_open)
        except _Stopped:
            raise
        except Exception as error:
            _log.exception("playground session %s: training stopped", self.id)
            self._playing = False
            self._notice = f"training stopped: {type(error).__name__}: {error}"
            self._publish()
            return
        if self.session.epoch >= self.limits.max_epochs:
            self._playing = False
            self._notice = (f"paused at {self.limits.max_epochs} epochs, the most this "
                            f"server trains; reset to train again")
        if not self._playing or (time.monotonic() - self._last_publish
                                 >= self.limits.update_seconds):
            self._publish()

    def _configure(self, settings):
        """Start over from `settings` (already checked), paused, as a new Session."""
        self._rebuild(settings)

    def _reset(self):
        """Start over with the same settings: the same points and initial weights."""
        self._rebuild(self.settings)

    def _regenerate(self):
        """Start over with new points (and new initial weights): the next seed."""
        config = self.settings.config
        self._rebuild(replace(self.settings,
                              config=replace(config, seed=(config.seed + 1) % (MAX_SEED + 1))))

    def _play(self):
        """Train epoch after epoch until paused."""
        self._check_epoch_limit()
        self._playing = True
        self._publish()

    def _pause(self):
        self._playing = False
        self._publish()

    def _step(self):
        """Pause, then train one epoch."""
        self._playing = False
        self._check_epoch_limit()
        self.session.step(on_batch=self._check_open)
        self._publish()

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
                           _feature_maps(session, self.limits.neuron_resolution),
                           output_range=session.output_range)
        self._publish()

    def _publish(self):
        session = self.session
        history = session.history
        accuracy = history.metrics.get("test_accuracy")
        low, high = session.output_range
        self._version += 1
        self._last_publish = time.monotonic()
        self.snapshot = Snapshot(
            version=self._version, scene=self.scene, epoch=session.epoch,
            playing=self._playing, notice=self._notice,
            train_loss=tuple(history.train_loss), test_loss=tuple(history.test_loss),
            test_accuracy=accuracy[-1] if accuracy else None,
            output_map=encode_map(session.predict_grid(self.settings.resolution), low, high),
            neuron_maps=[[encode_map(unit, -1.0, 1.0) for unit in layer]
                         for layer in session.hidden_grids(self.limits.neuron_resolution)],
            weights=[[[finite_or_none(round(value, WEIGHT_DIGITS)) for value in row]
                      for row in weight.tolist()] for weight in session.weights()])


def encode_map(values, low, high):
    """A map's values as base64 text of one byte each, row by row: `low` is 0 and `high`
    255, values beyond are clipped, and a NaN (a diverged network) sits in the middle."""
    middle = (low + high) / 2
    values = ag.where(values == values, values, middle).clip(low, high)
    levels = ((values - low) * (255 / (high - low)) + 0.5).astype(ag.int64)
    return base64.b64encode(bytes(levels.flatten().tolist())).decode("ascii")


def _points(session):
    """The training and test points as [x1, x2, label or target] lists, rounded for the
    page."""
    def rows(points, labels):
        return [[round(x1, 3), round(x2, 3), round(label, 3)]
                for (x1, x2), label in zip(points.tolist(), labels.tolist())]
    return {"train": rows(session.train_points, session.train_labels),
            "test": rows(session.test_points, session.test_labels)}


def _feature_maps(session, resolution):
    """Every input feature over the grid, chosen or not, by name: each scaled by its
    largest magnitude on the grid, so that every map shows its shape."""
    features = feature_matrix(session.grid_points(resolution), tuple(FEATURES))
    maps = {}
    for name, column in zip(FEATURES, features.T):
        scale = float(column.abs().max().item()) or 1.0
        maps[name] = encode_map(column.reshape(resolution, resolution), -scale, scale)
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
        "weights": list(snapshot.weights),
    }
    if scene.serial != sent_serial:
        message["scene"] = {"settings": scene.settings, "points": scene.points,
                            "features": scene.feature_maps, "extent": scene.extent,
                            "output_range": list(scene.output_range)}
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

    def drop(self, session_id, reason):
        """End the session `session_id`, if it is still there, for `reason`."""
        with self._lock:
            live = self._sessions.pop(session_id, None)
        if live is not None:
            live.close(reason)

    def drop_idle(self):
        with self._lock:
            self._drop_idle()

    def close_all(self):
        with self._lock:
            sessions, self._sessions = list(self._sessions.values()), {}
        for live in sessions:
            live.close("the server stopped")

    def _drop_idle(self):
        deadline = time.monotonic() - self.limits.idle_seconds
        for session_id, live in list(self._sessions.items()):
            if live.last_active < deadline:  # an open stream touches its session
                del self._sessions[session_id]
                live.close(f"idle for {self.limits.idle_seconds:g} s")
