"""The browser page's settings: what a request may set, checked before any training starts.

A page sends settings as JSON, a few at a time: each request names the fields it changes and
the rest keep their values. The fields are those of Config, but `epochs` (the page trains
until it is paused), plus `resolution`, the side of the output map's grid. A bad value is a
ConfigError naming the field, which the server answers with HTTP 400.

Settings must also fit the server's Limits, which keep one page from taking the machine: a
few small layers, a bounded number of points and a bounded map."""

from dataclasses import asdict, dataclass, replace

from .session import Config, ConfigError

MAX_SEED = 2 ** 32 - 1


@dataclass(frozen=True)
class Limits:
    """How much one server lets its pages use.

    `max_sessions` pages train at once; a page's session is dropped when its stream closes,
    or after `idle_seconds` without a stream or a request. A session trains at most
    `max_epochs` epochs (then it pauses until reset), and its stream sends at most one
    update every `update_seconds`."""

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

# The JSON type each field must arrive as, where Config.check would otherwise meet a value
# it cannot even compare (a list where a name belongs); numbers are Config.check's to judge.
_STRING_SETTINGS = ("dataset", "activation", "optimizer", "init", "backend")


def default_settings(config=Config(), limits=Limits()):
    """The settings a new page starts from: `config` and the limits' default resolution,
    checked against the limits."""
    settings = Settings(config, limits.default_resolution)
    check(settings, limits)
    return settings


def updated(settings, changes, limits):
    """`settings` with the JSON object `changes` applied, checked: raises ConfigError for
    an unknown field or a bad value."""
    if not isinstance(changes, dict):
        raise ConfigError("settings", f"must be a JSON object such as {{\"noise\": 0.1}}, "
                                      f"got {type(changes).__name__}")
    for name, value in changes.items():
        _check_type(name, value)
    fields = dict(changes)
    resolution = fields.pop("resolution", settings.resolution)
    for name in ("features", "hidden"):
        if name in fields:
            fields[name] = tuple(fields[name])
    new = Settings(replace(settings.config, **fields), resolution)
    check(new, limits)
    return new


def check(settings, limits):
    """Raise ConfigError for the first setting out of range, Config's own rules first."""
    config = settings.config
    config.check()
    if config.samples > limits.max_samples:
        raise ConfigError("samples", f"at most {limits.max_samples} points here, "
                                     f"got {config.samples}")
    if len(config.hidden) > limits.max_layers:
        raise ConfigError("hidden", f"at most {limits.max_layers} hidden layers here, "
                                    f"got {len(config.hidden)}")
    if any(width > limits.max_neurons for width in config.hidden):
        raise ConfigError("hidden", f"at most {limits.max_neurons} neurons per layer here, "
                                    f"got {list(config.hidden)}")
    if config.seed > MAX_SEED:
        raise ConfigError("seed", f"must be at most {MAX_SEED}, got {config.seed}")
    resolution = settings.resolution
    if (isinstance(resolution, bool) or not isinstance(resolution, int)
            or not limits.min_resolution <= resolution <= limits.max_resolution):
        raise ConfigError("resolution", f"must be an integer from {limits.min_resolution} "
                                        f"to {limits.max_resolution}, got {resolution!r}")


def _check_type(name, value):
    if name not in SETTING_NAMES:
        raise ConfigError(name, f"unknown setting (settings: {', '.join(SETTING_NAMES)})")
    if name in _STRING_SETTINGS and not isinstance(value, str):
        raise ConfigError(name, f"must be a string, got {value!r}")
    if name == "features" and not (isinstance(value, list)
                                   and all(isinstance(item, str) for item in value)):
        raise ConfigError(name, f"must be a list of feature names such as [\"x1\", \"x2\"], "
                                f"got {value!r}")
    if name == "hidden" and not isinstance(value, list):
        raise ConfigError(name, f"must be a list of layer widths such as [4, 2], "
                                f"got {value!r}")
