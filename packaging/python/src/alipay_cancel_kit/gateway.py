"""A running `alipay-cancel-kit serve` (or a `proxy` in front of one), seen from Python.

`start()` starts `serve --port 0` on loopback and waits for its ready line; `from_environment()`
takes the gateway that `serve --exec` (or `proxy --exec`) started from the variables it
exports (docs/serve.md, "A CI gate around any test suite"). Either way a `Gateway` carries the
ready line's facts under Python names and talks to the kit's endpoints (`/__kit/arm`,
`/__kit/requests`) with the standard library only.
"""

import json
import os
import shutil
import signal
import ssl
import subprocess
import sysconfig
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple, Union

#: The command the wheel installs, and the name looked up on the PATH.
BINARY_NAME = "alipay-cancel-kit"

#: The ready line's members and their Python names.
READY_FIELDS = (
    ("url", "url"),
    ("clientId", "client_id"),
    ("merchantPrivateKey", "merchant_private_key"),
    ("merchantPublicKey", "merchant_public_key"),
    ("alipayPublicKey", "alipay_public_key"),
    ("keyVersion", "key_version"),
    ("version", "version"),
    ("caCertificatePem", "ca_certificate_pem"),
    ("upstream", "upstream"),
)

#: What a test needs to sign requests and check answers: a gateway without these is unusable.
REQUIRED = ("url", "clientId", "merchantPrivateKey", "alipayPublicKey")

# How long `start` waits for the ready line: `serve` is ready in milliseconds, but CI
# machines are shared and a cold start may read the binary from a slow disk.
READY_TIMEOUT_S = 30.0
# How long a stopped `serve` has to write its reports before it is killed.
STOP_TIMEOUT_S = 10.0
# Control requests go to loopback: an answer slower than this means the gateway is gone.
CONTROL_TIMEOUT_S = 10.0


class KitError(Exception):
    """The kit could not be found, started or reached; the message says what to do."""


class Violations(AssertionError):
    """Requests broke checks of the kit (docs/contract.md#request-checks). `failures` holds
    each failed check as the kit reported it (`id`, `level`, `message`, `expected`, `seen`,
    `rule`), with the request's `seq`, `path` and `ids` where the journal had them."""

    def __init__(self, failures: List[Dict[str, Any]]):
        self.failures = failures
        super().__init__(describe(failures))


def describe(failures: Sequence[Mapping[str, Any]]) -> str:
    """The kit's words for failed checks, one per line, grouped under their request."""
    lines = []
    last_request = None
    requests = len({failure.get("seq") for failure in failures})
    lines.append(
        "%d failed check%s of the kit in %d request%s:"
        % (len(failures), "" if len(failures) == 1 else "s", requests, "" if requests == 1 else "s")
    )
    for failure in failures:
        request = (failure.get("seq"), failure.get("path"))
        if failure.get("seq") is not None and request != last_request:
            ids = ", ".join("%s=%s" % item for item in sorted((failure.get("ids") or {}).items()))
            lines.append("  request %s: %s%s" % (failure["seq"], failure.get("path", "?"), " (%s)" % ids if ids else ""))
            last_request = request
        text = "    %s (%s): %s" % (failure.get("id"), failure.get("level"), failure.get("message"))
        if failure.get("expected") not in (None, ""):
            text += "; expected %s" % failure["expected"]
        if failure.get("seen") not in (None, ""):
            text += "; seen %s" % failure["seen"]
        if failure.get("rule"):
            text += " [%s]" % failure["rule"]
        lines.append(text)
    return "\n".join(lines)


def find_binary(explicit: Optional[str] = None) -> str:
    """The kit's binary: `explicit`, else `ALIPAY_KIT_BIN` (which `serve --exec` exports, and
    which anyone may set), else the one the wheel installed beside this interpreter, else
    `alipay-cancel-kit` on the PATH.

    Raises `KitError` naming every place looked at when none is an executable file.
    """
    looked = []
    for source, candidate in (
        ("--cancel-kit-bin", explicit),
        ("ALIPAY_KIT_BIN", os.environ.get("ALIPAY_KIT_BIN")),
    ):
        if candidate:
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return candidate
            raise KitError("%s names %s, which is not an executable file" % (source, candidate))
    # The wheel's `.data/scripts/` lands in the scripts folder of the scheme pip installed
    # into: this interpreter's (a venv, the system), or the user's (`pip install --user`).
    schemes = [None]
    user_scheme = "%s_user" % os.name
    if user_scheme in sysconfig.get_scheme_names():
        schemes.append(user_scheme)
    for scheme in schemes:
        try:
            folder = sysconfig.get_path("scripts", scheme) if scheme else sysconfig.get_path("scripts")
        except KeyError:
            continue
        candidate = os.path.join(folder, BINARY_NAME)
        looked.append(candidate)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    on_path = shutil.which(BINARY_NAME)
    if on_path:
        return on_path
    looked.append("%s on the PATH" % BINARY_NAME)
    raise KitError(
        "the alipay-cancel-kit binary was not found (looked at %s): `pip install alipay-cancel-kit` "
        "into this environment, or set ALIPAY_KIT_BIN to the binary" % ", ".join(looked)
    )


class Gateway:
    """A running gateway: the ready line's facts, and the kit's endpoints.

    Attributes (the ready line's members under Python names): `url`, `client_id`,
    `merchant_private_key`, `merchant_public_key`, `alipay_public_key` (base64 DER, as the
    adapter protocol has them), `key_version`, `version`, and with TLS `ca_certificate_pem`
    and `ca_file` (a file holding it, for `SSL_CERT_FILE`, `requests`' `verify=`). `ready` is
    the whole ready line. Behind a proxy, `upstream` is the URL of the `serve` it forwards to:
    `arm` and `clear` go there, `requests` and the violation checks read the proxy's journal.
    """

    # Set from the ready line (READY_FIELDS), declared here for readers and type checkers.
    url: str
    client_id: str
    merchant_private_key: str
    merchant_public_key: Optional[str]
    alipay_public_key: str
    key_version: Optional[str]
    version: Optional[str]
    ca_certificate_pem: Optional[str]
    upstream: Optional[str]

    def __init__(
        self,
        ready: Mapping[str, Any],
        ca_file: Optional[str] = None,
        process: Optional["subprocess.Popen[bytes]"] = None,
        workdir: Optional[str] = None,
        extra_ca_pems: Iterable[str] = (),
    ):
        missing = [name for name in REQUIRED if not ready.get(name)]
        if missing:
            raise KitError("the gateway's ready line lacks %s: %s" % (", ".join(missing), json.dumps(sorted(ready))))
        self.ready = dict(ready)
        for camel, snake in READY_FIELDS:
            setattr(self, snake, ready.get(camel))
        self.ca_file = ca_file
        self.process = process
        self.returncode = None  # type: Optional[int]
        self.totals = None  # type: Optional[Dict[str, Any]]
        self._workdir = workdir
        self._window = 0
        self._context = None  # type: Optional[ssl.SSLContext]
        pems = [pem for pem in [self.ca_certificate_pem, *extra_ca_pems] if pem]
        if pems:
            # One context that trusts every CA we know of: the gateway's, and behind a proxy
            # the upstream serve's, so both can be reached over HTTPS.
            self._context = ssl.create_default_context()
            for pem in pems:
                self._context.load_verify_locations(cadata=pem)
        # Loopback only: a proxy from the environment (http_proxy) must never be asked.
        handlers = [urllib.request.ProxyHandler({})]
        if self._context is not None:
            handlers.append(urllib.request.HTTPSHandler(context=self._context))
        self._opener = urllib.request.build_opener(*handlers)

    # -- facts -----------------------------------------------------------------------------

    @property
    def tls(self) -> bool:
        return self.url.startswith("https:")

    @property
    def control_url(self) -> str:
        """Where `arm` and `clear` go: the serve itself, or the serve behind a proxy."""
        return self.upstream or self.url

    def __repr__(self) -> str:
        return "<alipay_cancel_kit.Gateway %s%s>" % (self.url, " -> %s" % self.upstream if self.upstream else "")

    # -- scenarios ---------------------------------------------------------------------------

    @staticmethod
    def magic(scenario: str) -> str:
        """A fresh magic id playing `scenario` (`kit:<scenario>:<unique>`): its answers start
        from the first, whatever other tests sent."""
        if not scenario or scenario.startswith("kit:"):
            raise ValueError("magic() takes a scenario id such as 'result/ORDER_NOT_EXIST', not %r" % scenario)
        return "kit:%s:%s" % (scenario, uuid.uuid4().hex[:12])

    def arm(
        self,
        scenario: str,
        times: int = 1,
        client_id: Optional[str] = None,
        id: Optional[str] = None,
    ) -> Dict[str, Any]:
        """The next `times` requests (with `client_id`, naming `id`, when given) that carry no
        magic id get `scenario`'s answers (`POST /__kit/arm`). Returns the kit's answer."""
        body = {"scenario": scenario, "times": times}  # type: Dict[str, Any]
        if client_id is not None:
            body["clientId"] = client_id
        if id is not None:
            body["id"] = id
        return self._call("POST", self.control_url, "/__kit/arm", body)

    def arm_answers(self, answers: Sequence[Mapping[str, Any]], times: int = 1, **scope: str) -> Dict[str, Any]:
        """As `arm`, with answers in the catalogue's answer format (docs/scenarios.md#answer)."""
        body = {"answers": list(answers), "times": times}  # type: Dict[str, Any]
        for name, value in scope.items():
            body["clientId" if name == "client_id" else name] = value
        return self._call("POST", self.control_url, "/__kit/arm", body)

    def clear(self) -> None:
        """Forgets the journal, the cancelled ids, the magic ids' places and armed answers
        (`DELETE /__kit/requests`); the totals stay."""
        self._call("DELETE", self.control_url, "/__kit/requests")
        self._window = self.mark()

    # -- the journal -------------------------------------------------------------------------

    def journal(self, id: Optional[str] = None) -> Dict[str, Any]:
        """`GET /__kit/requests` whole: `requests`, `totals`, `kept`."""
        path = "/__kit/requests" + ("?" + urllib.parse.urlencode({"id": id}) if id is not None else "")
        return self._call("GET", self.url, path)

    def requests(self, id: Optional[str] = None) -> List[Dict[str, Any]]:
        """Every exchange the journal kept, oldest first (only those naming `id`, if given):
        method, path, headers, body, ids, the failed `checks`, the `passed` ones, the answer."""
        exchanges = self.journal(id)["requests"]
        if id is None:
            return exchanges
        # `proxy` answers `?id=` with its whole journal: the filter is applied here as well.
        return [exchange for exchange in exchanges if id in _ids_named(exchange)]

    def mark(self) -> int:
        """The number of requests the gateway has seen: exchanges with a greater `seq` came after."""
        # An id no request can carry keeps the answer small: only the totals.
        return int(self.journal(id="kit-mark-%s" % uuid.uuid4().hex)["totals"]["requests"])

    def violations(self, level: str = "MUST", id: Optional[str] = None, since: Optional[int] = None) -> List[Dict[str, Any]]:
        """The failed request checks of `level` (`"MUST"`, `"SHOULD"`, or None for both) in
        requests after `since` (a `mark()`; by default the start of the current test under the
        pytest plugin, else of the session or the last `clear()`), naming `id` if given."""
        start = self._window if since is None else since
        failures = []
        for exchange in self.requests(id):
            if exchange.get("seq", 0) <= start:
                continue
            for check in exchange.get("checks", []):
                if check.get("held", False) or not str(check.get("id", "")).startswith("request["):
                    continue
                if level is not None and check.get("level") != level:
                    continue
                failures.append(dict(check, seq=exchange.get("seq"), path=exchange.get("path"), ids=exchange.get("ids")))
        return failures

    def assert_no_violations(
        self,
        headers: Union[None, Mapping[str, str], Iterable[Tuple[str, str]]] = None,
        level: str = "MUST",
        id: Optional[str] = None,
        since: Optional[int] = None,
    ) -> None:
        """Raises `Violations` (an AssertionError: the test fails with the kit's words) when a
        request broke a check of `level`.

        With `headers` (an answer's headers: a mapping, or `(name, value)` pairs as
        `http.client`'s `getheaders()` gives them), reads that answer's `x-kit-violations`;
        without, reads the journal as `violations()` does.
        """
        if headers is not None:
            failures = [f for f in violations_in_headers(headers) if level is None or f.get("level") == level]
        else:
            failures = self.violations(level=level, id=id, since=since)
        if failures:
            raise Violations(failures)

    # -- plumbing ----------------------------------------------------------------------------

    def _call(self, method: str, base: str, path: str, body: Any = None) -> Dict[str, Any]:
        data = None if body is None else json.dumps(body).encode("utf-8")
        request = urllib.request.Request(base.rstrip("/") + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        try:
            with self._opener.open(request, timeout=CONTROL_TIMEOUT_S) as answer:
                return json.loads(answer.read().decode("utf-8") or "{}")
        except urllib.error.HTTPError as error:
            text = error.read().decode("utf-8", "replace")
            try:
                text = json.loads(text).get("error", text)
            except ValueError:
                pass
            raise KitError("%s %s%s: HTTP %s: %s" % (method, base, path, error.code, text)) from None
        except (urllib.error.URLError, OSError) as error:
            raise KitError("%s %s%s failed: %s (is the gateway still running?)" % (method, base, path, error)) from None

    def stop(self) -> Optional[int]:
        """Stops a `serve` that `start` started (SIGTERM, then SIGKILL after 10 s) and removes
        its private folder; returns its exit status (1 when a request broke a MUST check).
        A gateway taken from the environment is left running: its owner stops it."""
        if self.process is not None and self.returncode is None:
            try:
                self.totals = self.journal(id="kit-totals-%s" % uuid.uuid4().hex)["totals"]
            except KitError:
                pass  # the totals are a courtesy; stopping is what matters
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=STOP_TIMEOUT_S)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait()
            self.returncode = self.process.returncode
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        return self.returncode

    def __enter__(self) -> "Gateway":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.stop()


def _ids_named(exchange: Mapping[str, Any]) -> List[str]:
    """The `paymentId` and `paymentRequestId` a journal's exchange named: `serve` lists them in
    `ids`, `proxy` only has the body."""
    ids = exchange.get("ids")
    if ids is None:
        try:
            ids = json.loads(exchange.get("body") or "")
        except ValueError:
            return []
        if not isinstance(ids, dict):
            return []
    return [value for key, value in ids.items() if key in ("paymentId", "paymentRequestId") and isinstance(value, str)]


def violations_in_headers(headers: Union[Mapping[str, str], Iterable[Tuple[str, str]]]) -> List[Dict[str, Any]]:
    """The failed checks an answer's `x-kit-violations` header carries (none when absent)."""
    pairs = headers.items() if hasattr(headers, "items") else headers
    failures = []  # type: List[Dict[str, Any]]
    for name, value in pairs:
        if name.lower() == "x-kit-violations":
            failures.extend(item for item in json.loads(value) if not item.get("truncated"))
    return failures


def start(
    tls: bool = False,
    binary: Optional[str] = None,
    args: Sequence[str] = (),
    timeout: float = READY_TIMEOUT_S,
) -> Gateway:
    """Starts `alipay-cancel-kit serve` on a free loopback port (`--tls`: HTTPS with a run CA)
    and returns it once its ready line is written. `args` go to `serve` as they are
    (`--catalogue DIR`, `--client-id ID`, `--journal FILE`...). Stop it with `stop()` or a
    `with` block.

    The ready line goes to a file in a private temporary folder (it holds a private key) and
    `serve`'s standard error to a log beside it; a `serve` that exits before it is ready
    raises `KitError` with that log.
    """
    kit = find_binary(binary)
    workdir = tempfile.mkdtemp(prefix="alipay-cancel-kit-")  # mode 0700: the key stays ours
    ready_file = os.path.join(workdir, "ready.json")
    log_path = os.path.join(workdir, "serve.log")
    command = [kit, "serve", "--host", "127.0.0.1", "--port", "0", "--ready-file", ready_file]
    if tls:
        command.append("--tls")
    command.extend(args)
    try:
        with open(log_path, "wb") as log:
            process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=log)
    except OSError as error:
        shutil.rmtree(workdir, ignore_errors=True)
        raise KitError("cannot start %s: %s" % (kit, error)) from None
    try:
        ready = _wait_for_ready(process, ready_file, log_path, command, timeout)
        ca_file = None
        if ready.get("caCertificatePem"):
            ca_file = os.path.join(workdir, "ca.pem")
            with open(ca_file, "w", encoding="utf-8") as f:
                f.write(ready["caCertificatePem"])
        gateway = Gateway(ready, ca_file=ca_file, process=process, workdir=workdir)
    except BaseException:
        if process.poll() is None:
            process.kill()
            process.wait()
        shutil.rmtree(workdir, ignore_errors=True)
        raise
    return gateway


def _wait_for_ready(process: "subprocess.Popen[bytes]", ready_file: str, log_path: str, command: List[str], timeout: float) -> Dict[str, Any]:
    deadline = time.monotonic() + timeout
    while not os.path.exists(ready_file):  # written whole, then renamed into place
        status = process.poll()
        if status is not None:
            raise KitError(
                "`%s` exited with status %s before it was ready; its standard error:\n%s"
                % (" ".join(command), status, _tail(log_path))
            )
        if time.monotonic() > deadline:
            raise KitError(
                "`%s` wrote no ready line within %.0f s; its standard error:\n%s" % (" ".join(command), timeout, _tail(log_path))
            )
        time.sleep(0.01)
    with open(ready_file, encoding="utf-8") as f:
        return json.load(f)


def _tail(path: str, limit: int = 4000) -> str:
    try:
        with open(path, "rb") as f:
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return "(no log)"
    return (text[-limit:] if len(text) > limit else text).rstrip() or "(empty)"


#: The variables `serve --exec` (and `proxy --exec`) export, one per ready-line member.
def _environment_name(camel: str) -> str:
    return "ALIPAY_KIT_" + "".join("_" + c if c.isupper() else c.upper() for c in camel)


def from_environment(environ: Optional[Mapping[str, str]] = None) -> Optional[Gateway]:
    """The gateway `serve --exec` or `proxy --exec` started, from the variables they export,
    or None when `ALIPAY_KIT_URL` is not set.

    The ready line is `ALIPAY_KIT_READY` when set, else built from `ALIPAY_KIT_URL`,
    `ALIPAY_KIT_CLIENT_ID`, `ALIPAY_KIT_MERCHANT_PRIVATE_KEY`, ... Behind a proxy (its ready
    line names an `upstream` and carries no keys), `ALIPAY_KIT_SERVE_READY_FILE` names the
    ready file of the `serve` behind it, whose keys and client id are used. `ALIPAY_KIT_CA_FILE`
    is the CA file (written from `ALIPAY_KIT_CA_CERTIFICATE_PEM` when only that is set).
    """
    env = os.environ if environ is None else environ
    if not env.get("ALIPAY_KIT_URL"):
        return None
    if env.get("ALIPAY_KIT_READY"):
        try:
            ready = json.loads(env["ALIPAY_KIT_READY"])  # type: Dict[str, Any]
        except ValueError as error:
            raise KitError("ALIPAY_KIT_READY is not the kit's JSON ready line: %s" % error) from None
    else:
        ready = {}
        for camel, _ in READY_FIELDS:
            value = env.get(_environment_name(camel))
            if value:
                ready[camel] = value
    ready["url"] = env["ALIPAY_KIT_URL"]
    extra_pems = []
    upstream_file = env.get("ALIPAY_KIT_SERVE_READY_FILE")
    if upstream_file:
        try:
            with open(upstream_file, encoding="utf-8") as f:
                upstream = json.load(f)
        except (OSError, ValueError) as error:
            raise KitError("ALIPAY_KIT_SERVE_READY_FILE=%s: %s" % (upstream_file, error)) from None
        if upstream.get("caCertificatePem"):
            extra_pems.append(upstream["caCertificatePem"])
        # The proxy's own facts (its URL, CA, upstream) win; the keys come from the serve.
        ready = dict(upstream, **ready)
    missing = [name for name in REQUIRED if not ready.get(name)]
    if missing:
        hint = ""
        if ready.get("upstream"):
            hint = " (a proxy exports no keys: set ALIPAY_KIT_SERVE_READY_FILE to the ready file of the serve behind it)"
        raise KitError(
            "ALIPAY_KIT_URL is set, but not %s%s" % (", ".join(_environment_name(name) for name in missing), hint)
        )
    ca_file = env.get("ALIPAY_KIT_CA_FILE") or None
    workdir = None
    if ready.get("caCertificatePem") and not ca_file:
        workdir = tempfile.mkdtemp(prefix="alipay-cancel-kit-")
        ca_file = os.path.join(workdir, "ca.pem")
        with open(ca_file, "w", encoding="utf-8") as f:
            f.write(ready["caCertificatePem"])
    elif ca_file and not ready.get("caCertificatePem"):
        with open(ca_file, encoding="utf-8") as f:
            ready["caCertificatePem"] = f.read()
    return Gateway(ready, ca_file=ca_file, workdir=workdir, extra_ca_pems=extra_pems)
