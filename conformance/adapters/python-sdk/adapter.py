#!/usr/bin/env python3
"""Adapter for Alipay's official Python SDK, both releases on the package index:
`global-open-sdk-python` 1.7.1 and `global-alipay-sdk-python` 1.0.1 (an older build of the
same code, same module layout and same public API).

It drives the SDK's own `DefaultAlipayClient.execute` with the SDK's `AlipayPayCancelRequest`,
reads the answer with the SDK's `AlipayPayCancelResponse`, and maps what the SDK returned or
raised onto the adapter protocol's outcome. It speaks the protocol in exec and persistent
mode alike (one outcome line per instruction line). Run it with the Python of the venv that
holds the release under test, and run the kit with `--tls` (the SDK speaks only HTTPS).

What the adapter changes in the SDK, all of it transport, nothing of the SDK's logic
(each patch is applied in `patch_transport` below):

1. Port. `net/default_http_rpc.__get_http_connection` always connects to port 443 of the
   gateway URL's host. The module's reference to `http.client` is replaced by a namespace
   whose `HTTPSConnection` is the standard class with only the port forced to the kit's. The
   host (`localhost`), the request line, the headers, the timeout and the SSL context stay
   the SDK's own.
2. Timeout. The same function's `timeout` defaults to `constants.DEFAULT_TIMEOUT` (15 s) and
   the SDK offers no way to set it. The default is set to the instruction's `timeoutMs`, the
   protocol's "time to allow one HTTP exchange"; otherwise the SDK would wait for answers
   the kit serves late on purpose and the failure would be the adapter's, not the SDK's.
3. Trust. The instruction's `caCertificatePem` is written to a file named by `SSL_CERT_FILE`,
   which the SSL context the SDK builds reads: 1.7.1's `ssl.create_default_context()` then
   trusts the kit's CA (and checks the host name, as it would against the real gateway).
   1.0.1 builds `ssl._create_unverified_context()`, which ignores it: that is the SDK's
   behaviour, left as it is. So the adapter declares the `tls` capability for both.

Keys are passed exactly as the instruction gives them (base64 PKCS#8 and base64 SPKI, no
armour): the SDK wraps the private key in `RSA PRIVATE KEY` armour, which the `cryptography`
release both venvs hold (44.0.3) reads; no conversion is needed.

Mapping, with nothing added on top of the SDK (no retry, no validation, no verification):
- `execute` raises (any exception: the SDK's `AlipayApiException`, a socket timeout, an SSL
  error, a `TypeError`): `UNKNOWN`, with the exception in `error`. The SDK surfaced no result.
- `execute` returns a body: the SDK's `AlipayPayCancelResponse` parses it. `resultStatus`
  `S` is `SUCCESS` (with the ids and `cancelTime` as the SDK read them), `F` is `FAILED`
  (with the code), `U` is `UNKNOWN`; a body the response class cannot parse, or a status it
  does not know (`value_of` gives `None`), is `UNKNOWN`.
- The SDK never refuses an instruction locally, so `INVALID_REQUEST` never appears.
"""

import json
import os
import sys
import tempfile
import traceback
import types
import http.client

CAPABILITIES = ["tls"]


def patch_transport(port, timeout_ms, ca_pem, ca_dir):
    """The three transport patches of the module docstring, for one instruction."""
    from com.alipay.ams.api.net import default_http_rpc as rpc

    class KitPortHTTPSConnection(http.client.HTTPSConnection):
        """`http.client.HTTPSConnection` with only the port replaced (patch 1)."""

        def __init__(self, host, port=None, *args, **kwargs):
            super().__init__(host, KIT_PORT[0], *args, **kwargs)

    KIT_PORT[0] = port
    rpc.http_client = types.SimpleNamespace(HTTPSConnection=KitPortHTTPSConnection)
    # Patch 2: the name is module-level, so not mangled; `do_post` calls it without a timeout.
    get_connection = getattr(rpc, "__get_http_connection")
    get_connection.__defaults__ = (timeout_ms / 1000.0,)
    # Patch 3: read by OpenSSL when the SDK's context loads the default verify paths.
    if ca_pem:
        path = os.path.join(ca_dir, "kit-ca.pem")
        with open(path, "w", encoding="ascii") as f:
            f.write(ca_pem)
        os.environ["SSL_CERT_FILE"] = path


KIT_PORT = [443]


def outcome_of_body(body):
    from com.alipay.ams.api.response.pay.alipay_pay_cancel_response import (
        AlipayPayCancelResponse,
    )

    try:
        response = AlipayPayCancelResponse(body)
    except Exception as e:  # noqa: BLE001 - whatever the SDK's parser raises
        return {"outcome": "UNKNOWN", "error": "the SDK's response class raised: %r" % e}
    result = response.result
    out = {}
    status = None
    if result is not None:
        status = result.result_status.value if result.result_status is not None else None
        if result.result_code is not None:
            out["resultCode"] = str(result.result_code)
        if status is not None:
            out["resultStatus"] = status
        if result.result_message is not None:
            out["resultMessage"] = str(result.result_message)
    if status == "S":
        out["outcome"] = "SUCCESS"
        for key, value in (
            ("paymentId", response.payment_id),
            ("paymentRequestId", response.payment_request_id),
            ("cancelTime", response.cancel_time),
        ):
            if value is not None:
                out[key] = str(value)
    elif status == "F":
        out["outcome"] = "FAILED"
    elif status == "U":
        out["outcome"] = "UNKNOWN"
        out["error"] = "the SDK returned resultStatus U"
    else:
        out["outcome"] = "UNKNOWN"
        out["error"] = "the SDK returned a body without a resultStatus it knows"
    return out


def cancel(instruction, ca_dir):
    from urllib.parse import urlparse

    from com.alipay.ams.api.default_alipay_client import DefaultAlipayClient
    from com.alipay.ams.api.request.pay.alipay_pay_cancel_request import (
        AlipayPayCancelRequest,
    )

    gateway = instruction["gateway"]
    url = urlparse(gateway["url"])
    if url.scheme != "https":
        raise SystemExit(
            "python-sdk adapter: the SDK speaks only HTTPS (to port 443); "
            "run the kit with --tls (got %s)" % gateway["url"]
        )
    patch_transport(url.port or 443, instruction["timeoutMs"], gateway.get("caCertificatePem"), ca_dir)

    client = DefaultAlipayClient(
        gateway["url"],
        gateway["clientId"],
        gateway["merchantPrivateKey"],
        gateway["alipayPublicKey"],
    )
    request = AlipayPayCancelRequest()
    fields = instruction["request"]
    if "paymentId" in fields:
        request.payment_id = fields["paymentId"]
    if "paymentRequestId" in fields:
        request.payment_request_id = fields["paymentRequestId"]
    if "merchantAccountId" in fields:
        request.merchant_account_id = fields["merchantAccountId"]
    if gateway.get("keyVersion"):
        request.key_version = gateway["keyVersion"]
    try:
        body = client.execute(request)
    except Exception as e:  # noqa: BLE001 - any exception means the SDK surfaced no result
        traceback.print_exc(file=sys.stderr)
        return {"outcome": "UNKNOWN", "error": "the SDK raised %s: %s" % (type(e).__name__, e)}
    return outcome_of_body(body)


def main():
    if "--capabilities" in sys.argv[1:]:
        print(json.dumps(CAPABILITIES))
        return 0
    with tempfile.TemporaryDirectory(prefix="python-sdk-adapter-") as ca_dir:
        for line in sys.stdin:
            if not line.strip():
                continue
            instruction = json.loads(line)
            outcome = cancel(instruction, ca_dir)
            sys.stdout.write(json.dumps(outcome, ensure_ascii=False) + "\n")
            sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
