"""`python -m nn.playground --serve`: the playground as a web page, trained live by
pluggrad in this process.

The page (static/index.html, app.js, style.css) asks for a session, changes its settings,
presses play, pause, step, reset and regenerate through a small JSON API, and listens to an
event stream (Server-Sent Events) of losses and maps:

    GET    /api/options                    choices, defaults, limits, backends, data previews
                                           and the settings' JSON schema
    POST   /api/sessions                   a new session: 201 {"id", "settings"}
    GET    /api/sessions/{id}              its settings, epoch and state
    POST   /api/sessions/{id}/settings     change some settings: the session starts over
    POST   /api/sessions/{id}/{command}    play, pause, step, reset or regenerate
    DELETE /api/sessions/{id}              end it
    GET    /api/sessions/{id}/events       the stream; the session ends when it closes

Every error is JSON, {"error": message} (plus "field" for a bad setting): 400 for a bad
setting or body, 403 for a request from elsewhere than the page (see web_guard), 404 for an
unknown or ended session or an unknown command, 409 for a second stream or a session at its
epoch limit, 413 for a body over the limit, 429 for a session with a full command queue,
503 when the server runs as many sessions as it allows.

The stream's events are "update" (what changed since the last one) and "ended" (the session
ended, with the reason, before the stream closes)."""

import asyncio
import contextlib
import json
import socket
import threading
import time
import webbrowser
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.responses import FileResponse, JSONResponse, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

import backends

from ..models import ACTIVATIONS, INIT_NAMES
from .features import FEATURES
from .session import (
    DATASETS,
    EXTENT,
    OPTIMIZERS,
    OUTPUT_RANGES,
    PROBLEMS,
    REGULARIZATIONS,
    Config,
    ConfigError,
)
from .web_guard import RequestGuard
from .web_session import (
    COMMANDS,
    CommandQueueFullError,
    EpochLimitError,
    SessionEndedError,
    SessionLimitError,
    SessionRegistry,
    update_message,
)
from .web_settings import Limits, default_settings, settings_schema, updated

STATIC = Path(__file__).with_name("static")
KEEPALIVE_SECONDS = 15.0
PREVIEW_POINTS = 200


def create_app(config=Config(), limits=Limits()):
    """The playground's web application: pages start from `config`'s settings, and the
    server keeps to `limits`. Raises ConfigError when `config` is beyond the limits."""
    defaults = default_settings(config, limits)
    registry = SessionRegistry(limits)
    previews = _previews()
    schema = settings_schema(limits)

    async def options(request):
        return JSONResponse({
            "datasets": list(DATASETS), "features": list(FEATURES),
            "problems": {name: list(sets) for name, sets in PROBLEMS.items()},
            "regularizations": list(REGULARIZATIONS),
            "output_ranges": OUTPUT_RANGES,
            "activations": list(ACTIVATIONS), "optimizers": list(OPTIMIZERS),
            "initialisations": list(INIT_NAMES),
            "backends": await run_in_threadpool(backends.available),
            "defaults": defaults.to_json(),
            "limits": {"max_layers": limits.max_layers, "max_neurons": limits.max_neurons,
                       "max_samples": limits.max_samples, "max_epochs": limits.max_epochs,
                       "max_sessions": limits.max_sessions},
            "schema": schema, "extent": EXTENT, "previews": previews})

    async def create(request):
        body = await _json_body(request)
        settings = await run_in_threadpool(updated, defaults, body, limits)
        live = await run_in_threadpool(registry.create, settings)
        return JSONResponse({"id": live.id, "settings": settings.to_json()}, status_code=201)

    async def state(request):
        live = _session(registry, request)
        snapshot = live.snapshot
        return JSONResponse({"id": live.id, "settings": live.settings.to_json(),
                             "epoch": snapshot.epoch, "playing": snapshot.playing,
                             "notice": snapshot.notice})

    async def change_settings(request):
        live = _session(registry, request)
        body = await _json_body(request)
        settings = await run_in_threadpool(updated, live.settings, body, limits)
        await asyncio.wrap_future(live.submit("configure", settings))
        return JSONResponse({"settings": settings.to_json()})

    async def command(request):
        live = _session(registry, request)
        name = request.path_params["command"]
        if name not in COMMANDS:
            raise HTTPException(404, f"unknown command {name!r} (commands: "
                                     f"{', '.join(COMMANDS)})")
        await asyncio.wrap_future(live.submit(name))
        snapshot = live.snapshot
        return JSONResponse({"epoch": snapshot.epoch, "playing": snapshot.playing})

    async def end(request):
        live = _session(registry, request)
        registry.drop(live.id, "ended by a DELETE request")
        return JSONResponse({"ended": live.id})

    async def events(request):
        live = _session(registry, request)
        if live.streams:
            raise HTTPException(409, f"session {live.id!r} already has an event stream open; "
                                     f"a page opens one stream per session")
        live.streams += 1
        return StreamingResponse(_stream(registry, live), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache"})

    async def index(request):
        return FileResponse(STATIC / "index.html")

    @contextlib.asynccontextmanager
    async def lifespan(app):
        sweeper = asyncio.create_task(_sweep_idle(registry, limits.idle_seconds))
        try:
            yield
        finally:
            sweeper.cancel()
            registry.close_all()

    session_path = "/api/sessions/{session_id}"
    app = Starlette(
        routes=[
            Route("/", index),
            Route("/api/options", options),
            Route("/api/sessions", create, methods=["POST"]),
            Route(session_path, state, methods=["GET"]),
            Route(session_path, end, methods=["DELETE"]),
            Route(session_path + "/events", events),
            Route(session_path + "/settings", change_settings, methods=["POST"]),
            Route(session_path + "/{command}", command, methods=["POST"]),
            Mount("/static", StaticFiles(directory=STATIC), name="static"),
        ],
        exception_handlers={
            HTTPException: _http_error,
            ConfigError: _setting_error,
            SessionLimitError: _refusal(503),
            EpochLimitError: _refusal(409),
            CommandQueueFullError: _refusal(429),
            SessionEndedError: _refusal(404),
        },
        middleware=[Middleware(RequestGuard, max_body_bytes=limits.max_body_bytes)],
        lifespan=lifespan)
    app.state.registry = registry
    return app


async def _stream(registry, live):
    """Send the page an update whenever a new snapshot is there, at most one per update
    period, and a comment now and then so that a dead connection is noticed; once the
    session has ended, say why and close. The session ends with its stream: a closed page
    leaves nothing training."""
    sent_version, sent_serial, sent_epochs = None, None, 0
    last_sent = time.monotonic()
    try:
        while not live.closed:
            live.touch()
            snapshot = live.snapshot
            if snapshot.version != sent_version:
                message = update_message(snapshot, sent_serial, sent_epochs)
                yield f"event: update\ndata: {json.dumps(message, allow_nan=False)}\n\n"
                sent_version, sent_serial = snapshot.version, snapshot.scene.serial
                sent_epochs = len(snapshot.train_loss)
                last_sent = time.monotonic()
            elif time.monotonic() - last_sent > KEEPALIVE_SECONDS:
                yield ": keep-alive\n\n"
                last_sent = time.monotonic()
            await asyncio.sleep(live.limits.update_seconds)
        ended = {"reason": live.end_reason}
        yield f"event: ended\ndata: {json.dumps(ended)}\n\n"
    finally:
        live.streams -= 1
        registry.drop(live.id, "its page closed")


async def _sweep_idle(registry, idle_seconds):
    while True:
        await asyncio.sleep(min(idle_seconds, 10.0))
        registry.drop_idle()


def _session(registry, request):
    session_id = request.path_params["session_id"]
    try:
        return registry.get(session_id)
    except KeyError:
        raise HTTPException(404, f"no session {session_id!r}: it ended (its page closed or "
                                 f"it was idle) or never was; create one with POST "
                                 f"/api/sessions") from None


async def _json_body(request):
    """The request's JSON; an empty body is an empty object. The body's size is bounded by
    RequestGuard; what it holds is refused with 400 when it is not JSON, is nested too
    deeply for the parser, or holds an integer with more digits than Python reads."""
    body = await request.body()
    if not body.strip():
        return {}
    try:
        return json.loads(body)
    except UnicodeDecodeError:
        raise HTTPException(400, "request body: not valid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as error:
        raise HTTPException(400, f"request body: not valid JSON ({error})") from None
    except RecursionError:
        raise HTTPException(400, "request body: JSON nested too deeply") from None
    except ValueError:
        raise HTTPException(400, "request body: a number with more digits than this server "
                                 "reads") from None


async def _http_error(request, error):
    return JSONResponse({"error": error.detail}, status_code=error.status_code,
                        headers=error.headers)


async def _setting_error(request, error):
    return JSONResponse({"error": str(error), "field": error.field}, status_code=400)


def _refusal(status):
    async def respond(request, error):
        return JSONResponse({"error": str(error)}, status_code=status)
    return respond


def _previews():
    """A few clean points of each data set, for the page's data set buttons."""
    previews = {}
    for name, make in DATASETS.items():
        points, labels = make(PREVIEW_POINTS, 0.0, seed=0)
        previews[name] = [[round(x1, 2), round(x2, 2), round(label, 2)]
                          for (x1, x2), label in zip(points.tolist(), labels.tolist())]
    return previews


def listening_socket(host, port):
    """A socket listening on host:port (port 0: a free one), or OSError."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(128)
    except OSError:
        sock.close()
        raise
    return sock


def _url(sock):
    host, port = sock.getsockname()[:2]
    return f"http://{f'[{host}]' if ':' in host else host}:{port}/"


def serve(config=Config(), host="127.0.0.1", port=8000, open_browser=False, limits=Limits()):
    """Serve the playground page at http://host:port/ until interrupted (Ctrl-C); pages
    start from `config`. Raises ConfigError for settings beyond the limits and OSError when
    the address cannot be listened on."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError("port", f"must be an integer from 0 to 65535, got {port!r}")
    app = create_app(config, limits)
    sock = listening_socket(host, port)
    url = _url(sock)
    print(f"playground: {url} (Ctrl-C stops it)", flush=True)
    if open_browser:
        webbrowser.open(url)
    try:
        uvicorn.Server(_uvicorn_config(app)).run(sockets=[sock])
    except KeyboardInterrupt:
        pass  # Ctrl-C is how the server is meant to stop; uvicorn re-raises it once done
    return 0


def _uvicorn_config(app):
    # An open page's stream only ends with its session, which ends at the application's
    # shutdown, which uvicorn runs once the streams are done: the timeout breaks the wait.
    return uvicorn.Config(app, log_level="warning", timeout_graceful_shutdown=1)


@contextlib.contextmanager
def running(app, host="127.0.0.1", port=0):
    """Run `app` on a thread for the duration of the block and give its URL: a page to
    open from a notebook or a test while the caller goes on."""
    sock = listening_socket(host, port)
    server = uvicorn.Server(_uvicorn_config(app))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]},
                              name="playground-server", daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("playground server: it stopped while starting; its log "
                                   "says why")
            time.sleep(0.01)
        yield _url(sock)
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
