"""The playground's web API: settings checked with a message per bad value, sessions that
train apart from each other, bounded in number, and that end with their page's stream."""

import base64
import contextlib
import json
import math
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

pytest.importorskip("starlette", reason="the web extra is not installed: "
                                        "pip install 'pluggrad[web]'")
pytest.importorskip("uvicorn", reason="the web extra is not installed: "
                                      "pip install 'pluggrad[web]'")
httpx = pytest.importorskip("httpx", reason="httpx is not installed: pip install httpx")

import backends  # noqa: E402
from nn.playground import FEATURES, Config, Session  # noqa: E402
from nn.models import ACTIVATIONS, INIT_NAMES  # noqa: E402
from nn.playground.server import create_app, running  # noqa: E402
from nn.playground.session import DATASETS, OPTIMIZERS  # noqa: E402
from nn.playground.web_session import (WORKER_PREFIX, Snapshot, Scene, encode_map,  # noqa: E402
                                       update_message)
from nn.playground.web_settings import Limits  # noqa: E402

SMALL = {"samples": 80, "hidden": [4, 3]}
DEADLINE_SECONDS = 30


@contextlib.contextmanager
def serving(config=Config(), limits=Limits()):
    """The playground's server on a free port of this machine, and a client for it; the
    client's `app` is the application, to look at its sessions."""
    app = create_app(config, limits)
    with running(app) as url, httpx.Client(base_url=url, timeout=30) as client:
        client.app = app
        yield client


@pytest.fixture
def client():
    with serving() as client:
        yield client


def new_session(client, **settings):
    answer = client.post("/api/sessions", json={**SMALL, **settings})
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def reference(settings, epochs):
    """A Session trained alone, outside the server, for `epochs` epochs."""
    fields = {**SMALL, **settings}
    fields = {name: tuple(value) if isinstance(value, list) else value
              for name, value in fields.items()}
    session = Session(Config(**fields))
    for _ in range(epochs):
        session.step()
    return session


def levels(text):
    return np.frombuffer(base64.b64decode(text), dtype=np.uint8)


def training_threads():
    return [thread for thread in threading.enumerate() if thread.name.startswith(WORKER_PREFIX)]


def wait_until(condition, what):
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"still waiting for {what}"
        time.sleep(0.02)


# ---------------------------------------------------------------- options and pages

def test_options_list_every_choice_backend_and_default(client):
    options = client.get("/api/options").json()
    assert options["datasets"] == list(DATASETS)
    assert options["features"] == list(FEATURES)
    assert options["activations"] == list(ACTIVATIONS)
    assert options["optimizers"] == list(OPTIMIZERS)
    assert options["initialisations"] == list(INIT_NAMES)
    assert options["backends"] == backends.available()
    defaults = Config()
    assert options["defaults"]["dataset"] == defaults.dataset
    assert options["defaults"]["hidden"] == list(defaults.hidden)
    assert set(options["previews"]) == set(DATASETS)
    for points in options["previews"].values():
        assert all(abs(x1) <= 6 and abs(x2) <= 6 and label in (0, 1)
                   for x1, x2, label in points)


def test_the_page_and_its_files_are_served(client):
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    for element in ('id="play"', 'id="epoch"', 'id="heatmap"', 'id="show-test"',
                    'id="discretize"', 'id="backend"', 'id="add-layer"', 'id="regenerate"'):
        assert element in page.text
    for name in ("app.js", "style.css"):
        assert client.get(f"/static/{name}").status_code == 200
    assert client.get("/static/missing.js").status_code == 404


# ---------------------------------------------------------------- settings

def test_a_new_session_takes_the_settings_sent_and_keeps_the_rest():
    with serving(Config(dataset="xor", lr=0.03)) as client:
        answer = client.post("/api/sessions", json={"noise": 0.2, "hidden": [3]})
        assert answer.status_code == 201
        settings = answer.json()["settings"]
        assert (settings["dataset"], settings["lr"]) == ("xor", 0.03)
        assert (settings["noise"], settings["hidden"]) == (0.2, [3])
        state = client.get(f"/api/sessions/{answer.json()['id']}").json()
        assert state["settings"] == settings
        assert (state["epoch"], state["playing"]) == (0, False)


BAD_SETTINGS = [
    ({"dataset": "moons"}, "dataset", "moons"),
    ({"dataset": ["spiral"]}, "dataset", "string"),
    ({"noise": 1.5}, "noise", "1.5"),
    ({"noise": "0.1"}, "noise", "'0.1'"),
    ({"noise": True}, "noise", "True"),
    ({"samples": 1}, "samples", "at least 2"),
    ({"samples": 5000}, "samples", "at most 2000"),
    ({"test_ratio": 0}, "test_ratio", "(0, 1)"),
    ({"batch_size": 0}, "batch_size", "at least 1"),
    ({"batch_size": 2.5}, "batch_size", "2.5"),
    ({"features": []}, "features", "(none)"),
    ({"features": ["x1", "x3"]}, "features", "x3"),
    ({"features": "x1"}, "features", "list"),
    ({"features": [1]}, "features", "list"),
    ({"hidden": [4, 0]}, "hidden", "positive"),
    ({"hidden": [9]}, "hidden", "at most 8 neurons"),
    ({"hidden": [2] * 7}, "hidden", "at most 6 hidden layers"),
    ({"hidden": 4}, "hidden", "list"),
    ({"activation": "swish"}, "activation", "swish"),
    ({"lr": 0}, "lr", "(0, inf)"),
    ({"optimizer": "lbfgs"}, "optimizer", "lbfgs"),
    ({"init": "glorot"}, "init", "glorot"),
    ({"seed": -1}, "seed", "at least 0"),
    ({"seed": 2 ** 40}, "seed", "at most"),
    ({"backend": "abacus"}, "backend", "abacus"),
    ({"resolution": 4}, "resolution", "from 8 to 100"),
    ({"resolution": 1000}, "resolution", "1000"),
    ({"epochs": 5}, "epochs", "unknown setting"),
    ({"colour": "red"}, "colour", "unknown setting"),
]


@pytest.mark.parametrize("body, field, fragment", BAD_SETTINGS,
                         ids=[f"{field}={body[field]!r}"[:40] for body, field, _ in BAD_SETTINGS])
def test_a_bad_setting_is_refused_with_its_name(client, body, field, fragment):
    session_id = new_session(client)
    client.post(f"/api/sessions/{session_id}/step")
    for path in ("/api/sessions", f"/api/sessions/{session_id}/settings"):
        answer = client.post(path, json=body)
        assert answer.status_code == 400
        error = answer.json()
        assert error["field"] == field
        assert error["error"].startswith(f"{field}: ") and fragment in error["error"]
    state = client.get(f"/api/sessions/{session_id}").json()
    assert state["epoch"] == 1, "a refused change must leave the session as it was"


@pytest.mark.parametrize("body, fragment", [
    (b"{not json", "not valid JSON"), (b"[1, 2]", "JSON object"), (b"\xff", "not valid JSON"),
    (b'{"lr": NaN}', "lr: must be a number"),
])
def test_a_bad_body_is_refused(client, body, fragment):
    session_id = new_session(client)
    for path in ("/api/sessions", f"/api/sessions/{session_id}/settings"):
        answer = client.post(path, content=body, headers={"Content-Type": "application/json"})
        assert answer.status_code == 400
        assert fragment in answer.json()["error"]


def test_a_cupy_session_where_cupy_cannot_run_is_refused_with_the_reason(client):
    state = backends.available()["cupy"]
    if state is True:
        pytest.skip("cupy runs here")
    answer = client.post("/api/sessions", json={"backend": "cupy"})
    assert answer.status_code == 400 and state in answer.json()["error"]


def test_changed_settings_start_a_new_network(client):
    session_id = new_session(client)
    client.post(f"/api/sessions/{session_id}/step")
    answer = client.post(f"/api/sessions/{session_id}/settings",
                         json={"dataset": "circle", "features": ["x1^2", "x2^2"]})
    assert answer.status_code == 200
    assert answer.json()["settings"]["features"] == ["x1^2", "x2^2"]
    state = client.get(f"/api/sessions/{session_id}").json()
    assert (state["settings"]["dataset"], state["epoch"]) == ("circle", 0)


# ---------------------------------------------------------------- commands

def test_step_trains_one_epoch_as_a_session_alone_would(client):
    session_id = new_session(client, dataset="xor")
    for epoch in (1, 2):
        answer = client.post(f"/api/sessions/{session_id}/step").json()
        assert answer == {"epoch": epoch, "playing": False}
    live = client.app.state.registry.get(session_id)
    expected = reference({"dataset": "xor"}, 2)
    assert live.snapshot.train_loss == tuple(expected.history.train_loss)
    assert live.snapshot.test_loss == tuple(expected.history.test_loss)


def test_play_trains_until_pause_and_reset_starts_over(client):
    session_id = new_session(client)
    assert client.post(f"/api/sessions/{session_id}/play").json()["playing"] is True
    live = client.app.state.registry.get(session_id)
    wait_until(lambda: live.snapshot.epoch >= 3, "three epochs")
    assert client.post(f"/api/sessions/{session_id}/pause").json()["playing"] is False
    wait_until(lambda: not training_threads(), "the training thread to end")
    paused_at = live.snapshot.epoch
    time.sleep(0.1)
    assert live.snapshot.epoch == paused_at
    assert client.post(f"/api/sessions/{session_id}/reset").json() == {"epoch": 0,
                                                                      "playing": False}


def test_regenerate_draws_new_points_and_reset_keeps_them(client):
    session_id = new_session(client)
    live = client.app.state.registry.get(session_id)
    first = live.scene.points
    client.post(f"/api/sessions/{session_id}/reset")
    assert live.scene.points == first
    client.post(f"/api/sessions/{session_id}/regenerate")
    assert live.settings.config.seed == 1
    assert live.scene.points["train"] != first["train"]
    assert len(live.scene.points["train"]) == len(first["train"])


def test_changed_data_set_or_noise_draws_new_points(client):
    session_id = new_session(client)
    live = client.app.state.registry.get(session_id)
    seen = [live.scene.points]
    for change in ({"dataset": "gauss"}, {"noise": 0.3}):
        client.post(f"/api/sessions/{session_id}/settings", json=change)
        assert live.scene.points not in seen
        seen.append(live.scene.points)


def test_unknown_sessions_and_commands_get_404(client):
    for method, path in [("GET", "/api/sessions/nope"), ("DELETE", "/api/sessions/nope"),
                         ("POST", "/api/sessions/nope/play"),
                         ("POST", "/api/sessions/nope/settings"),
                         ("GET", "/api/sessions/nope/events")]:
        answer = client.request(method, path)
        assert answer.status_code == 404 and "no session 'nope'" in answer.json()["error"]
    session_id = new_session(client)
    answer = client.post(f"/api/sessions/{session_id}/jump")
    assert answer.status_code == 404
    assert "unknown command 'jump'" in answer.json()["error"]


def test_delete_ends_a_session(client):
    session_id = new_session(client)
    client.post(f"/api/sessions/{session_id}/play")
    assert client.delete(f"/api/sessions/{session_id}").status_code == 200
    assert client.get(f"/api/sessions/{session_id}").status_code == 404
    wait_until(lambda: not training_threads(), "the training thread to end")


# ---------------------------------------------------------------- limits

def test_the_session_limit_is_answered_with_a_refusal():
    with serving(limits=Limits(max_sessions=2)) as client:
        first, _ = new_session(client), new_session(client)
        answer = client.post("/api/sessions", json=SMALL)
        assert answer.status_code == 503
        assert "already runs 2 sessions" in answer.json()["error"]
        client.delete(f"/api/sessions/{first}")
        new_session(client)


def test_idle_sessions_are_dropped():
    with serving(limits=Limits(idle_seconds=0.2)) as client:
        idle = new_session(client)
        time.sleep(0.3)
        busy = new_session(client)
        assert client.get(f"/api/sessions/{idle}").status_code == 404
        assert client.get(f"/api/sessions/{busy}").status_code == 200


def test_a_session_stops_at_the_epoch_limit():
    with serving(limits=Limits(max_epochs=3)) as client:
        session_id = new_session(client)
        client.post(f"/api/sessions/{session_id}/play")
        live = client.app.state.registry.get(session_id)
        wait_until(lambda: not live.snapshot.playing, "training to stop at the limit")
        assert live.snapshot.epoch == 3 and "paused at 3 epochs" in live.snapshot.notice
        for name in ("play", "step"):
            answer = client.post(f"/api/sessions/{session_id}/{name}")
            assert answer.status_code == 409 and "reset" in answer.json()["error"]
        assert client.post(f"/api/sessions/{session_id}/reset").status_code == 200
        assert client.post(f"/api/sessions/{session_id}/step").status_code == 200


# ---------------------------------------------------------------- the maps

def test_maps_are_bytes_from_low_to_high_with_nan_in_the_middle():
    import autograd as ag
    values = ag.tensor([[math.nan, -5.0], [0.25, 5.0]])
    assert list(levels(encode_map(values, 0.0, 1.0))) == [128, 0, 64, 255]
    assert list(levels(encode_map(values, -1.0, 1.0))) == [128, 0, 159, 255]


def test_the_output_map_is_the_networks_prediction_on_the_grid(client):
    session_id = new_session(client, resolution=12)
    client.post(f"/api/sessions/{session_id}/step")
    snapshot = client.app.state.registry.get(session_id).snapshot
    expected = reference({}, 1).predict_grid(12).numpy().ravel()
    np.testing.assert_array_equal(levels(snapshot.output_map),
                                  np.floor(expected * 255 + 0.5).astype(np.uint8))


def test_neuron_maps_are_each_hidden_units_activation(client):
    session_id = new_session(client, activation="tanh", hidden=[3, 2])
    client.post(f"/api/sessions/{session_id}/step")
    snapshot = client.app.state.registry.get(session_id).snapshot
    session = reference({"hidden": [3, 2]}, 1)
    resolution = Limits().neuron_resolution
    values = np.linspace(-6, 6, resolution, dtype=np.float32)
    points = session.grid_points(resolution).numpy()
    np.testing.assert_allclose(points[:, 0], np.tile(values, resolution), atol=1e-5)
    np.testing.assert_allclose(points[:, 1], np.repeat(values, resolution), atol=1e-5)
    activations = session.features(session.grid_points(resolution)).numpy()
    for layer, width in enumerate((3, 2)):
        linear = session.model[2 * layer]
        activations = np.tanh(activations @ linear.weight.numpy().T + linear.bias.numpy())
        assert len(snapshot.neuron_maps[layer]) == width
        for unit in range(width):
            expected = np.floor((activations[:, unit] + 1) * 127.5 + 0.5)
            np.testing.assert_allclose(levels(snapshot.neuron_maps[layer][unit]), expected,
                                       atol=1)


def test_update_messages_carry_new_losses_and_the_scene_only_when_it_changed():
    scene = Scene(serial=2, settings={}, points={"train": [], "test": []}, feature_maps=[])
    snapshot = Snapshot(version=5, scene=scene, epoch=3, playing=True, notice="",
                        train_loss=(0.7, 0.6, math.nan), test_loss=(0.8, 0.7, math.inf),
                        test_accuracy=0.5, output_map="", neuron_maps=[])
    fresh = update_message(snapshot, sent_serial=1, sent_epochs=2)
    assert "scene" in fresh and fresh["history"] == {"start": 0, "train": [0.7, 0.6, None],
                                                     "test": [0.8, 0.7, None]}
    later = update_message(snapshot, sent_serial=2, sent_epochs=2)
    assert "scene" not in later
    assert later["history"] == {"start": 2, "train": [None], "test": [None]}
    json.dumps(later, allow_nan=False)


# ---------------------------------------------------------------- streams

def read_updates(response):
    """The JSON of each update event in a streamed response."""
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield json.loads(line[len("data: "):])


def stream_until_epoch(client, session_id, epochs):
    """Follow a session's stream until `epochs` epochs; the losses it sent, in order."""
    train, test = [], []
    with client.stream("GET", f"/api/sessions/{session_id}/events") as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        for message in read_updates(response):
            start = message["history"]["start"]
            del train[start:], test[start:]
            train += message["history"]["train"]
            test += message["history"]["test"]
            if message["epoch"] >= epochs:
                return train[:epochs], test[:epochs]


def test_the_stream_sends_the_scene_then_the_losses_as_they_come(client):
    session_id = new_session(client)
    with client.stream("GET", f"/api/sessions/{session_id}/events") as response:
        messages = read_updates(response)
        first = next(messages)
        assert first["epoch"] == 0 and first["history"]["train"] == []
        scene = first["scene"]
        assert scene["settings"]["hidden"] == SMALL["hidden"]
        assert (len(scene["points"]["train"]), len(scene["points"]["test"])) == (40, 40)
        assert len(levels(first["output"])) == 50 * 50
        assert [len(layer) for layer in first["neurons"]] == SMALL["hidden"]
        assert len(scene["features"]) == len(Config().features)
        client.post(f"/api/sessions/{session_id}/step")
        second = next(messages)
        assert "scene" not in second and second["epoch"] == 1
        assert second["history"]["start"] == 0 and len(second["history"]["train"]) == 1
    wait_until(lambda: len(client.app.state.registry) == 0,
               "the session to end with its stream")


def test_two_sessions_train_at_once_without_disturbing_each_other(client):
    settings = [{}, {"dataset": "circle", "features": ["x1^2", "x2^2"], "batch_size": 5}]
    ids = [new_session(client, **s) for s in settings]
    for session_id in ids:
        client.post(f"/api/sessions/{session_id}/play")
    epochs = 6
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(lambda i: stream_until_epoch(client, i, epochs), ids))
    for (train, test), s in zip(results, settings):
        expected = reference(s, epochs).history
        assert train == pytest.approx(expected.train_loss, rel=1e-6)
        assert test == pytest.approx(expected.test_loss, rel=1e-6)
    assert results[0][0] != results[1][0]


def test_a_second_stream_for_one_session_is_refused(client):
    session_id = new_session(client)
    with client.stream("GET", f"/api/sessions/{session_id}/events") as first:
        messages = read_updates(first)
        next(messages)
        second = client.get(f"/api/sessions/{session_id}/events")
        assert second.status_code == 409 and "already has" in second.json()["error"]


def test_a_client_leaving_mid_stream_leaves_no_session_or_thread_behind(client):
    registry = client.app.state.registry
    wait_until(lambda: not training_threads(), "earlier tests' training threads to end")
    assert len(registry) == 0
    session_id = new_session(client)
    client.post(f"/api/sessions/{session_id}/play")
    with client.stream("GET", f"/api/sessions/{session_id}/events") as response:
        for message in read_updates(response):
            if message["epoch"] >= 2:
                assert len(training_threads()) == 1 and len(registry) == 1
                break
    wait_until(lambda: len(registry) == 0 and not training_threads(),
               "the registry and the training threads to return to where they were")
    assert client.get(f"/api/sessions/{session_id}").status_code == 404


# ---------------------------------------------------------------- the command line

def test_serve_option_runs_the_page_until_interrupted(tmp_path):
    process = subprocess.Popen(
        [sys.executable, "-m", "nn.playground", "--serve", "--port", "0", "--dataset", "xor"],
        cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        assert line.startswith("playground: http://127.0.0.1:"), process.stderr.read()
        url = line.split()[1]
        assert httpx.get(url).status_code == 200
        assert httpx.get(f"{url}api/options").json()["defaults"]["dataset"] == "xor"
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0, process.stderr.read()


@pytest.mark.parametrize("options, message", [
    (["--hidden", "9"], "argument --hidden: at most 8 neurons per layer"),
    (["--samples", "9999"], "argument --samples: at most 2000 points"),
    (["--port", "70000"], "argument --port: must be an integer from 0 to 65535"),
])
def test_serve_refuses_what_the_page_cannot_take(options, message, tmp_path):
    result = subprocess.run([sys.executable, "-m", "nn.playground", "--serve", *options],
                            cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and message in result.stderr


def test_serve_names_an_address_in_use(tmp_path):
    with running(create_app()) as url:
        port = url.rsplit(":", 1)[1].strip("/")
        result = subprocess.run([sys.executable, "-m", "nn.playground", "--serve", "--port",
                                 port], cwd=tmp_path, capture_output=True, text=True,
                                timeout=60)
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
