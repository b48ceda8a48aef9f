"""The official Python SDK's client against the kit's gateway, for `test_cancel_sdk.py`.

The gateway is the `cancel_kit` fixture of alipay-cancel-kit's pytest plugin (`pip install
alipay-cancel-kit`): the gateway `serve --exec` or `proxy --exec` started when `ALIPAY_KIT_URL`
is set, else a `serve` the plugin starts for the session (`--cancel-kit-tls` for HTTPS). This
file only adapts the SDK's transport to it.
"""

import http.client
import types
from urllib.parse import urlparse

import pytest

# How long the SDK waits for one answer: well under the 2.5 s that `kit:fault/timeout` waits.
SDK_TIMEOUT_S = 1.0


@pytest.fixture
def client(cancel_kit, monkeypatch):
    """The SDK's `DefaultAlipayClient` against the gateway. Three transport facts of the SDK
    need help, the same three the kit's SDK adapter documents: it always connects to port 443
    over TLS, its timeout is fixed at 15 s, and it trusts only the system's CAs."""
    from com.alipay.ams.api.default_alipay_client import DefaultAlipayClient
    from com.alipay.ams.api.net import default_http_rpc as rpc

    url = urlparse(cancel_kit.url)

    def connection(host, port=None, timeout=None, context=None):
        """The SDK's connection, to the gateway's port (plain HTTP when its URL says so)."""
        if url.scheme == "http":
            return http.client.HTTPConnection(host, url.port, timeout=timeout)
        return http.client.HTTPSConnection(host, url.port, timeout=timeout, context=context)

    monkeypatch.setattr(rpc, "http_client", types.SimpleNamespace(HTTPSConnection=connection))
    connect = getattr(rpc, "__get_http_connection")
    monkeypatch.setattr(connect, "__defaults__", (SDK_TIMEOUT_S,))
    if cancel_kit.ca_file:
        monkeypatch.setenv("SSL_CERT_FILE", cancel_kit.ca_file)
    return DefaultAlipayClient(
        cancel_kit.url,
        cancel_kit.client_id,
        cancel_kit.merchant_private_key,
        cancel_kit.alipay_public_key,
    )
