"""The browser page's settings: what a request may set, checked before any training starts.

A page sends settings as JSON, a few at a time: each request names the fields it changes and
the rest keep their values. The fields are those of Config, but `epochs` (the page trains
until it is paused), plus `resolution`, the side of the output map's grid.

The types and ranges are a pydantic model, made for the server's Limits (which keep one page
from taking the machine: a few small layers, a bounded number of points and a bounded map);
`/api/options` serves its JSON schema. A bad value is a ConfigError naming the field and
its range, which the server answers with HTTP 400; Config's own rules (a usable backend, a
data set of the problem type, a split that leaves points on both sides) come after."""

import functools
import reprlib
from dataclasses import asdict, dataclass
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, ValidationError, create_model

import backends

from ..models import ACTIVATIONS, INIT_NAMES
from .features import FEATURES
from .session import DATASETS, OPTIMIZERS, PROBLEMS, REGULARIZATIONS, Config, ConfigError

MAX_SEED = 2 ** 32 - 1
MAX_LEARNING_RATE = 10.0        # TensorFlow Playground's largest choice
MAX_REGULARIZATION_RATE = 10.0  # likewise

# Errors quote the value they refuse, cut short: a request must not get its input back.
_SHORT = reprlib.Repr()
_SHORT.maxstring = _SHORT.maxother = _SHORT.maxlong = 40
_SHORT.maxlist, _SHORT.maxdict, _SHORT.maxlevel = 8, 4, 2
_LONGEST_NAME = 40


@dataclass(frozen=True)
class Limits:
    """How much one server lets its pages use.

    `max_sessions` pages train at once; a page's session is dropped when its stream closes,
    or after `idle_seconds` without a stream or a request. A session trains at most
    `max_epochs` epochs (then it pauses until reset), and its stream sends at most one
    update every `update_seconds`. A session holds at most `max_queued_commands` commands
    waiting for its thread (more are refused with 429), and a request body is at most
    `max_body_bytes` (more is refused with 413)."""

    max_sessions: int = 8
    idle_seconds: float = 300.0
    max_epochs: int = 10000
    update_seconds: float = 0.1
    max_layers: int = 6
    max_neurons: int = 8
    max_samples: int = 2000
    min_resolution: int = 8
    max_resolution: int = 100
    default_resolution: int = 50
    neuron_resolution: int = 20
    max_queued_commands: int = 4
    max_body_bytes: int = 64 * 1024


@dataclass(frozen=True)
class Settings:
    """A page's Config and the resolution of its output map."""

    config: Config
    resolution: int

    def to_json(self):
        """The settings as the page sends them: Config's fields but `epochs`, tuples as
        lists, and `resolution`."""
        fields = asdict(self.config)
        del fields["epochs"]
        fields["features"] = list(fields["features"])
        fields["hidden"] = list(fields["hidden"])
        return {**fields, "resolution": self.resolution}


SETTING_NAMES = tuple(Settings(Config(), 0).to_json())


def _choice(names):
    return Literal[tuple(names)]


def _number(**bounds):
    return float, Field(allow_inf_nan=False, **bounds)


@functools.cache
def settings_model(limits):
    """The pydantic model of a page's settings under `limits`: strict types (no "0.1" for
    0.1, no true for 1), every number within its range, every name from its list."""
    width = Annotated[int, Field(ge=1, le=limits.max_neurons)]
    return create_model(
        "PlaygroundSettings",
        __config__=ConfigDict(strict=True, extra="forbid", frozen=True),
        dataset=(_choice(DATASETS), ...),
        noise=_number(ge=0, le=1),
        samples=(int, Field(ge=2, le=limits.max_samples)),
        test_ratio=_number(gt=0, lt=1),
        batch_size=(int, Field(ge=1, le=limits.max_samples)),
        features=(list[_choice(FEATURES)], Field(min_length=1, max_length=len(FEATURES))),
        hidden=(list[width], Field(max_length=limits.max_layers)),
        activation=(_choice(ACTIVATIONS), ...),
        lr=_number(gt=0, le=MAX_LEARNING_RATE),
        optimizer=(_choice(OPTIMIZERS), ...),
        init=(_choice(INIT_NAMES), ...),
        seed=(int, Field(ge=0, le=MAX_SEED)),
        backend=(_choice(backends.available()), ...),
        problem=(_choice(PROBLEMS), ...),
        regularization=(_choice(REGULARIZATIONS), ...),
        regularization_rate=_number(ge=0, le=MAX_REGULARIZATION_RATE),
        resolution=(int, Field(ge=limits.min_resolution, le=limits.max_resolution)),
    )


def settings_schema(limits):
    """The JSON schema of the settings a page may send (each field's type and range)."""
    return settings_model(limits).model_json_schema()


def default_settings(config=Config(), limits=Limits()):
    """The settings a new page starts from: `config` and the limits' default resolution,
    checked against the limits."""
    return updated(Settings(config, limits.default_resolution), {}, limits)


def updated(settings, changes, limits):
    """`settings` with the JSON object `changes` applied, checked: raises ConfigError for
    an unknown field or a bad value."""
    if not isinstance(changes, dict):
        raise ConfigError("settings", f"must be a JSON object such as {{\"noise\": 0.1}}, "
                                      f"got {type(changes).__name__}")
    fields = {**settings.to_json(), **changes}
    model = settings_model(limits)
    try:
        checked = model.model_validate(fields).model_dump()
    except ValidationError as error:
        raise _config_error(model, error.errors()[0], fields) from None
    resolution = checked.pop("resolution")
    config = Config(**{name: tuple(value) if isinstance(value, list) else value
                       for name, value in checked.items()}, epochs=settings.config.epochs)
    config.check()
    return Settings(config, resolution)


def _config_error(model, error, fields):
    """The ConfigError for pydantic's `error`: the field, the range it must be in and the
    value sent, cut short."""
    name = str(error["loc"][0]) if error["loc"] else "settings"
    shown = name if len(name) <= _LONGEST_NAME else name[:_LONGEST_NAME] + "..."
    if error["type"] == "extra_forbidden":
        return ConfigError(shown, f"unknown setting (settings: {', '.join(SETTING_NAMES)})")
    schema = model.model_json_schema()["properties"][name]
    return ConfigError(shown, f"must be {_phrase(schema)}, got {_short(fields[name])}")


def _phrase(schema):
    """What a value of `schema` (a field of the settings' JSON schema) must be, in words."""
    if "enum" in schema:
        return f"a string from: {', '.join(map(str, schema['enum']))}"
    kind = schema["type"]
    if kind == "integer":
        return f"an integer from {schema['minimum']} to {schema['maximum']}"
    if kind == "number":
        low = (f"({schema['exclusiveMinimum']:g}" if "exclusiveMinimum" in schema
               else f"[{schema['minimum']:g}")
        high = (f"{schema['exclusiveMaximum']:g})" if "exclusiveMaximum" in schema
                else f"{schema['maximum']:g}]")
        return f"a number in {low}, {high}"
    least = schema.get("minItems", 0)
    count = f"{least} to {schema['maxItems']}" if least else f"at most {schema['maxItems']}"
    return f"a list of {count} items, each {_phrase(schema['items'])}"


def _short(value):
    try:
        return _SHORT.repr(value)
    except ValueError:  # an integer with more digits than Python will print
        return "an integer too long to show"
