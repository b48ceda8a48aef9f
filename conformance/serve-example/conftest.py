"""Fixtures for testing Alipay's official Python SDK against `alipay-cancel-kit serve`.

`gateway` is the ready line of a running `serve --tls`: the one `serve --exec "pytest ..."`
put in ALIPAY_KIT_READY, or, when pytest runs on its own, a `serve` this fixture starts on a
free port and stops at the end of the session. `client` is the SDK's own
`DefaultAlipayClient`, pointed at it.
"""

import http.client
import json
import os
import subprocess
import types

import pytest

KIT = os.environ.get("ALIPAY_CANCEL_KIT", "alipay-cancel-kit")

# How long the SDK waits for one answer: well under the 2.5 s that `kit:fault/timeout` waits.
SDK_TIMEOUT_S = 1.0


@pytest.fixture(scope="session")
def gateway():
    if "ALIPAY_KIT_READY" in os.environ:
        ready = json.loads(os.environ["ALIPAY_KIT_READY"])
        # Through `proxy --exec`: the proxy's URL and CA, the keys of the serve behind it.
        upstream = os.environ.get("ALIPAY_KIT_SERVE_READY_FILE")
        if upstream:
            with open(upstream, encoding="utf-8") as f:
                ready = {**json.load(f), **ready}
        yield ready
        return
    server = subprocess.Popen(
        [KIT, "serve", "--tls", "--port", "0"], stdout=subprocess.PIPE, text=True
    )
    try:
        line = server.stdout.readline()
        if not line:
            pytest.fail("alipay-cancel-kit serve did not start (is it on PATH, or ALIPAY_CANCEL_KIT set?)")
        yield json.loads(line)
    finally:
        server.terminate()
        server.wait(timeout=10)


@pytest.fixture
def client(gateway, monkeypatch, tmp_path):
    """The SDK's client against the gateway. Three transport facts of the SDK need help, the
    same three the kit's SDK adapter documents: it always connects to port 443, its timeout
    is fixed at 15 s, and it trusts only the system's CAs."""
    from urllib.parse import urlparse

    from com.alipay.ams.api.default_alipay_client import DefaultAlipayClient
    from com.alipay.ams.api.net import default_http_rpc as rpc

    port = urlparse(gateway["url"]).port

    class KitPort(http.client.HTTPSConnection):
        """The standard connection, with only the port replaced by the gateway's."""

        def __init__(self, host, *args, **kwargs):
            kwargs.pop("port", None)
            super().__init__(host, port, *args[1:], **kwargs)

    monkeypatch.setattr(rpc, "http_client", types.SimpleNamespace(HTTPSConnection=KitPort))
    connect = getattr(rpc, "__get_http_connection")
    monkeypatch.setattr(connect, "__defaults__", (SDK_TIMEOUT_S,))
    ca = tmp_path / "kit-ca.pem"
    ca.write_text(gateway["caCertificatePem"])
    monkeypatch.setenv("SSL_CERT_FILE", str(ca))
    return DefaultAlipayClient(
        gateway["url"],
        gateway["clientId"],
        gateway["merchantPrivateKey"],
        gateway["alipayPublicKey"],
    )
