"""idspine: identity resolution that publishes one stable profile per person."""

from idspine._version import __version__
from idspine.api import Result, resolve
from idspine.config.load import Config, load_config
from idspine.errors import ConfigError, IdspineError, InputError, RunError

__all__ = [
    "Config",
    "ConfigError",
    "IdspineError",
    "InputError",
    "Result",
    "RunError",
    "__version__",
    "load_config",
    "resolve",
]
