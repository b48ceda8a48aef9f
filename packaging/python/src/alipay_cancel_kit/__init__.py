"""alipay-cancel-kit for Python: the kit's binary on the PATH, a client for its `serve`
gateway, and a pytest plugin (the `cancel_kit` fixture).

The wheel installs the `alipay-cancel-kit` command itself; this package finds it
(`find_binary`), starts `serve` (`start`), or picks up the gateway `serve --exec` started
(`from_environment`). The pytest plugin in `alipay_cancel_kit.plugin` is registered through
the `pytest11` entry point and loads whenever pytest runs in an environment holding the wheel.
"""

from .gateway import (
    BINARY_NAME,
    Gateway,
    KitError,
    Violations,
    find_binary,
    from_environment,
    start,
)

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("alipay-cancel-kit")
except PackageNotFoundError:  # imported from a source tree, not from the installed wheel
    __version__ = "0+unknown"

__all__ = [
    "BINARY_NAME",
    "Gateway",
    "KitError",
    "Violations",
    "find_binary",
    "from_environment",
    "start",
    "__version__",
]
