"""The pytest plugin of alipay-cancel-kit: the session fixture `cancel_kit`.

Registered through the `pytest11` entry point, so it loads wherever the wheel is installed
(`-p no:alipay_cancel_kit` turns it off). `cancel_kit` is the gateway `serve --exec` started
when `ALIPAY_KIT_URL` is set, else a `serve` on a free loopback port that the fixture starts
once per session and always stops. Options (`pytest --help`, group "alipay-cancel-kit"):

    --cancel-kit-tls        start serve with --tls (HTTPS with a run CA; `cancel_kit.ca_file`)
    --cancel-kit-bin PATH   the kit's binary (else ALIPAY_KIT_BIN, the wheel's, the PATH's)
    --cancel-kit-arg ARG    one more argument for serve, as it is (repeat the option)
    --cancel-kit-strict     fail each test using cancel_kit in which a request broke a MUST check
"""

import os

import pytest

from . import gateway as _gateway

# Where the started gateways are kept for the terminal summary: on the config, not in a
# module global, so a pytest run inside a pytest run (pytester) keeps its own.
_STARTED = "_alipay_cancel_kit_started"


def pytest_addoption(parser):
    group = parser.getgroup("alipay-cancel-kit", "alipay-cancel-kit: the cancel_kit fixture")
    group.addoption(
        "--cancel-kit-tls",
        action="store_true",
        default=False,
        help="start serve with --tls: HTTPS with a CA made for the session (cancel_kit.ca_file). "
        "Ignored when ALIPAY_KIT_URL names a running gateway.",
    )
    group.addoption(
        "--cancel-kit-bin",
        metavar="PATH",
        default=None,
        help="the alipay-cancel-kit binary to start (default: ALIPAY_KIT_BIN, then the one the "
        "wheel installed, then the PATH's).",
    )
    group.addoption(
        "--cancel-kit-arg",
        metavar="ARG",
        action="append",
        default=[],
        help="one more argument for `serve`, passed as it is (repeat: --cancel-kit-arg=--catalogue "
        "--cancel-kit-arg=my-scenarios/).",
    )
    group.addoption(
        "--cancel-kit-strict",
        action="store_true",
        default=False,
        help="fail every test using cancel_kit in which a request broke a MUST check of the kit.",
    )


def pytest_configure(config):
    setattr(config, _STARTED, [])


def pytest_report_header(config):
    where = os.path.dirname(os.path.abspath(_gateway.__file__))
    if os.environ.get("ALIPAY_KIT_URL"):
        gateway = "the gateway from the environment, %s" % os.environ["ALIPAY_KIT_URL"]
    else:
        try:
            gateway = "serve started from %s" % _gateway.find_binary(config.getoption("cancel_kit_bin"))
        except _gateway.KitError as error:
            gateway = str(error)
    return "alipay-cancel-kit: plugin %s; %s" % (where, gateway)


@pytest.fixture(scope="session")
def cancel_kit(request):
    """The kit's cancel gateway for the session (an `alipay_cancel_kit.Gateway`): `url`,
    `client_id`, `merchant_private_key`, `merchant_public_key`, `alipay_public_key`,
    `key_version`, `ca_file` (with TLS); `magic(scenario)`, `arm(scenario, times=1)`,
    `requests()`, `clear()`, `violations()`, `assert_no_violations()`."""
    config = request.config
    try:
        gateway = _gateway.from_environment()
        if gateway is None:
            gateway = _gateway.start(
                tls=config.getoption("cancel_kit_tls"),
                binary=config.getoption("cancel_kit_bin"),
                args=config.getoption("cancel_kit_arg"),
            )
            getattr(config, _STARTED, []).append(gateway)
    except _gateway.KitError as error:
        pytest.fail("cancel_kit: %s" % error, pytrace=False)
    try:
        gateway._window = gateway.mark()
        yield gateway
    finally:
        gateway.stop()


@pytest.fixture(autouse=True)
def _cancel_kit_test_window(request):
    """For tests that use `cancel_kit`: `violations()` and `assert_no_violations()` look at the
    requests since this test began; with --cancel-kit-strict, a broken MUST check fails it."""
    if "cancel_kit" not in request.fixturenames:
        yield
        return
    gateway = request.getfixturevalue("cancel_kit")
    gateway._window = gateway.mark()
    yield
    if request.config.getoption("cancel_kit_strict"):
        failures = gateway.violations()
        if failures:
            pytest.fail("cancel_kit (--cancel-kit-strict): %s" % _gateway.describe(failures), pytrace=False)


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    for gateway in getattr(config, _STARTED, []):
        totals = gateway.totals or {}
        terminalreporter.write_line(
            "alipay-cancel-kit serve %s: %s requests, %s broke a MUST check, %s a SHOULD check; exit status %s"
            % (
                gateway.url,
                totals.get("requests", "?"),
                totals.get("mustFailed", "?"),
                totals.get("shouldFailed", "?"),
                gateway.returncode,
            )
        )
