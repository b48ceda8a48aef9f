#!/usr/bin/env python3
"""Example adapter for alipay-cancel-kit: a cancel client in Python 3, written from the docs alone.

It speaks the adapter protocol v1 (docs/adapter-protocol.md): it reads instruction lines on
standard input and answers each with exactly one outcome line on standard output, so the same
program serves exec mode (one line, then end of input) and persistent mode (many lines).
Logs go to standard error only.

    python3 adapter.py                  # serve instructions from standard input
    python3 adapter.py --capabilities   # print the capabilities as a JSON array

The client itself (everything from `CancelClient` down) is what a merchant would ship: it
validates the ids locally, signs the request (RSA256), verifies the answer's signature, treats
every answer it cannot believe as UNKNOWN, and calls again with the same body after U or no
usable answer, at most MAX_ATTEMPTS times in all. Standard library plus `cryptography`.
"""

import base64
import binascii
import datetime
import functools
import http.client
import json
import re
import ssl
import sys
import time
import traceback
import urllib.parse

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

PROTOCOL = "alipay-cancel-kit/1"

# What this adapter can do beyond plain HTTP. `make_connection` already speaks HTTPS with the
# instruction's CA; "tls" goes in here once the kit serves TLS and that path has been run.
CAPABILITIES = ["tls"]

CANCEL_PATH = "/ams/api/v1/payments/cancel"
SANDBOX_CANCEL_PATH = "/ams/sandbox/api/v1/payments/cancel"

# Calls in all for one cancel when the result stays open (U, or no usable answer).
# The contract allows up to 5; every call carries the same body.
MAX_ATTEMPTS = 3
# Pause before calling again, in seconds (kept short: the kit's scenarios are quick).
RETRY_PAUSE = 0.05

ID_LIMITS = {"paymentId": 64, "paymentRequestId": 64, "merchantAccountId": 32}


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


# --- Timestamps ------------------------------------------------------------------------------

_RFC3339 = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:([Zz])|([+-])(\d{2}):(\d{2}))",
    re.ASCII,  # \d is 0-9 only, not every script's digits
)


class Instant:
    """An RFC 3339 date-time as parsed: a timezone-aware datetime at whole seconds plus the
    fraction's digits exactly as sent (any number of them: nothing is rounded away)."""

    def __init__(self, whole, fraction, offset_text):
        self.whole = whole  # datetime.datetime, tz-aware, microsecond 0
        self.fraction = fraction  # "" or the digits after the dot
        self.offset_text = offset_text  # "Z" or "+hh:mm" / "-hh:mm"

    def rfc3339(self):
        """The instant as RFC 3339 text, in the offset it was given in."""
        text = self.whole.strftime("%Y-%m-%dT%H:%M:%S")
        if self.fraction:
            text += "." + self.fraction
        return text + self.offset_text

    def as_datetime(self):
        """A Python datetime (microsecond precision: longer fractions are truncated)."""
        micros = int((self.fraction + "000000")[:6]) if self.fraction else 0
        return self.whole.replace(microsecond=micros)


def parse_rfc3339(text):
    """Parses RFC 3339 `date-time` strictly (`T`/`Z` of either case, any fraction length,
    `Z` or `±hh:mm`); returns an Instant, or None for anything else (no `+0800`, no space,
    no missing offset, no out-of-range field)."""
    if not isinstance(text, str):
        return None
    m = _RFC3339.fullmatch(text)
    if not m:
        return None
    year, month, day, hour, minute, second = (int(g) for g in m.groups()[:6])
    fraction, zulu, sign, off_h, off_m = m.group(7) or "", m.group(8), m.group(9), m.group(10), m.group(11)
    if zulu:
        offset, offset_text = datetime.timedelta(0), "Z"
    else:
        if int(off_h) > 23 or int(off_m) > 59:
            return None
        offset = datetime.timedelta(hours=int(off_h), minutes=int(off_m))
        if sign == "-":
            offset = -offset
        offset_text = f"{sign}{off_h}:{off_m}"
    try:
        whole = datetime.datetime(year, month, day, hour, minute, second,
                                  tzinfo=datetime.timezone(offset))
    except ValueError:  # month 13, 31 April, second 60 ...
        return None
    return Instant(whole, fraction, offset_text)


# --- The signing scheme ----------------------------------------------------------------------

def string_to_sign(path, client_id, time_text, body):
    """`POST <path>\\n<client id>.<time>.<body bytes as sent>`."""
    return f"POST {path}\n{client_id}.{time_text}.".encode("utf-8") + body


def sign(private_key, path, client_id, time_text, body):
    """RSASSA-PKCS1-v1_5 over SHA-256, standard base64, then URL-encoded (+ / = escaped)."""
    raw = private_key.sign(string_to_sign(path, client_id, time_text, body),
                           padding.PKCS1v15(), hashes.SHA256())
    return urllib.parse.quote(base64.b64encode(raw).decode("ascii"), safe="")


def parse_signature_header(value):
    """`algorithm=RSA256, keyVersion=1, signature=...`: pairs in any order, spaces allowed,
    each split at its first `=`. Returns a dict, or raises ValueError."""
    pairs = {}
    for part in value.split(","):
        key, eq, val = part.strip().partition("=")
        key = key.strip()
        if not eq or not key:
            raise ValueError(f"malformed pair {part.strip()!r}")
        if key in pairs:
            raise ValueError(f"`{key}` appears twice")
        pairs[key] = val.strip()
    return pairs


def verify(public_key, path, client_id, time_text, body, signature_value):
    """Checks a signature value (URL-encoded, escapes of either case, or raw base64).
    Returns None when it verifies, else why not."""
    try:
        # unquote_to_bytes leaves `+` alone: in base64 it is a digit, not a space.
        raw = base64.b64decode(urllib.parse.unquote_to_bytes(signature_value), validate=True)
    except (binascii.Error, ValueError) as e:
        return f"signature is not base64: {e}"
    try:
        public_key.verify(raw, string_to_sign(path, client_id, time_text, body),
                          padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return "signature does not verify with the vendor public key"
    return None


# Keys are parsed once per distinct text: `cryptography` validates an RSA private key as it
# loads it (tens of milliseconds), and a persistent adapter sees the same keys every time.
@functools.lru_cache(maxsize=8)
def load_private_key(text):
    """Base64 of PKCS#8 DER, no armour (line breaks tolerated)."""
    key = serialization.load_der_private_key(base64.b64decode("".join(text.split())), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise ValueError("merchantPrivateKey is not an RSA key")
    return key


@functools.lru_cache(maxsize=8)
def load_public_key(text):
    """Base64 of X.509 SubjectPublicKeyInfo DER, no armour (line breaks tolerated)."""
    key = serialization.load_der_public_key(base64.b64decode("".join(text.split())))
    if not isinstance(key, rsa.RSAPublicKey):
        raise ValueError("alipayPublicKey is not an RSA key")
    return key


# --- Transport -------------------------------------------------------------------------------

class Deadline:
    def __init__(self, seconds):
        self.end = time.monotonic() + seconds

    def remaining(self):
        left = self.end - time.monotonic()
        if left <= 0:
            raise TimeoutError("no complete answer within timeoutMs")
        return left


def make_connection(base_url, timeout, ca_pem=None):
    """An HTTP(S) connection to the gateway; HTTPS trusts only the instruction's CA and checks
    the host name."""
    url = urllib.parse.urlsplit(base_url)
    if url.scheme == "http":
        return http.client.HTTPConnection(url.hostname, url.port or 80, timeout=timeout), url.path
    if url.scheme == "https":
        context = ssl.create_default_context(cadata=ca_pem) if ca_pem else ssl.create_default_context()
        return (http.client.HTTPSConnection(url.hostname, url.port or 443, timeout=timeout,
                                            context=context), url.path)
    raise ValueError(f"unsupported gateway URL {base_url!r}")


class Answer:
    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers  # http.client.HTTPMessage: case-insensitive
        self.body = body  # bytes, exactly as received


def post(base_url, path, headers, body, timeout, ca_pem=None):
    """One exchange on a fresh connection, all of it within `timeout` seconds."""
    deadline = Deadline(timeout)
    conn, base_path = make_connection(base_url, timeout, ca_pem)
    try:
        conn.connect()
        conn.sock.settimeout(deadline.remaining())
        conn.request("POST", base_path.rstrip("/") + path, body=body, headers=headers)
        conn.sock.settimeout(deadline.remaining())
        response = conn.getresponse()
        chunks = []
        while True:
            conn.sock.settimeout(deadline.remaining())
            chunk = response.read(65536)
            if not chunk:
                break
            chunks.append(chunk)
        return Answer(response.status, response.msg, b"".join(chunks))
    finally:
        conn.close()


# --- The client ------------------------------------------------------------------------------

def outcome(kind, error=None, result=None, **fields):
    out = {"outcome": kind}
    if isinstance(result, dict):
        for name in ("resultCode", "resultStatus", "resultMessage"):
            if isinstance(result.get(name), str):
                out[name] = result[name]
    out.update({k: v for k, v in fields.items() if v is not None})
    if error:
        out["error"] = error
    return out


def validate_request(fields):
    """The request rules, checked before anything is sent. Returns the body fields to send
    (nulls left out: an unset id), or raises ValueError saying which rule broke."""
    body = {}
    for name, value in fields.items():
        if name not in ID_LIMITS:
            raise ValueError(f"{name}: the cancel call has no such parameter")
        if value is None:
            continue
        if not isinstance(value, str):
            raise ValueError(f"{name}: expected a string, found {type(value).__name__}")
        n = len(value)  # code points, as the API counts them
        if not 1 <= n <= ID_LIMITS[name]:
            raise ValueError(f"{name}: expected 1 to {ID_LIMITS[name]} characters, found {n}")
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValueError(f"{name}: not valid Unicode (lone surrogate)") from None
        body[name] = value
    if "paymentId" not in body and "paymentRequestId" not in body:
        raise ValueError("paymentId or paymentRequestId: at least one must be given")
    return body


class Open(Exception):
    """The result is still open (U, or no answer to believe): UNKNOWN unless a later call settles it."""

    def __init__(self, why, result=None):
        super().__init__(why)
        self.result = result


class CancelClient:
    def __init__(self, gateway, timeout_ms):
        self.base_url = gateway["url"]
        if urllib.parse.urlsplit(self.base_url).scheme not in ("http", "https"):
            raise ValueError(f"unsupported gateway URL {self.base_url!r}")
        self.client_id = gateway["clientId"]
        self.key_version = gateway.get("keyVersion") or "1"
        self.merchant_key = load_private_key(gateway["merchantPrivateKey"])
        self.vendor_key = load_public_key(gateway["alipayPublicKey"])
        self.ca_pem = gateway.get("caCertificatePem")
        self.timeout = timeout_ms / 1000.0
        # A SANDBOX_ client id calls, and signs, the sandbox path.
        self.path = SANDBOX_CANCEL_PATH if self.client_id.startswith("SANDBOX_") else CANCEL_PATH

    def cancel(self, fields, tag=""):
        try:
            body_fields = validate_request(fields)
        except ValueError as e:
            return outcome("INVALID_REQUEST", f"refused locally: {e}")
        # The same bytes on every attempt: a retry must carry the same request.
        body = json.dumps(body_fields, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        last = outcome("UNKNOWN", "no attempt made")
        for attempt in range(1, MAX_ATTEMPTS + 1):
            if attempt > 1:
                time.sleep(RETRY_PAUSE * (attempt - 1))
            try:
                return self.exchange(body)
            except Open as e:
                log(f"{tag} attempt {attempt}: result open: {e}")
                last = outcome("UNKNOWN", str(e), e.result)
        return last

    def exchange(self, body):
        """One call. Returns the outcome when the answer settles the cancel; raises Open when not."""
        request_time = str(int(time.time() * 1000))
        signature = sign(self.merchant_key, self.path, self.client_id, request_time, body)
        headers = {
            "Content-Type": "application/json; charset=UTF-8",
            "Client-Id": self.client_id,
            "Request-Time": request_time,
            "Signature": f"algorithm=RSA256,keyVersion={self.key_version},signature={signature}",
        }
        try:
            answer = post(self.base_url, self.path, headers, body, self.timeout, self.ca_pem)
        except (OSError, http.client.HTTPException, ValueError) as e:  # timeouts are OSErrors
            raise Open(f"no answer: {type(e).__name__}: {e}") from None
        return self.interpret(answer)

    def interpret(self, answer):
        if answer.status != 200:
            raise Open(f"HTTP status {answer.status}: a transport error")
        try:
            doc = json.loads(answer.body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as e:
            raise Open(f"the body is not JSON: {e}") from None
        result = doc.get("result") if isinstance(doc, dict) else None
        if not isinstance(result, dict):
            raise Open("the answer has no `result` object")
        status = result.get("resultStatus")
        if status not in ("S", "F", "U") or not isinstance(result.get("resultCode"), str):
            raise Open(f"unusable result: resultStatus {status!r}, resultCode {result.get('resultCode')!r}")

        untrusted = self.untrusted(answer, status)
        if untrusted:
            raise Open(f"cannot believe the answer: {untrusted}", result)

        if status == "F":
            return outcome("FAILED", result=result)
        if status == "U":
            raise Open("the result is unknown (U)", result)
        ids = {k: doc.get(k) for k in ("paymentId", "paymentRequestId")}
        cancel_time = parse_rfc3339(doc.get("cancelTime"))
        if not all(isinstance(v, str) for v in ids.values()) or cancel_time is None:
            # A believed S is definitive: calling again is not allowed, but it cannot be surfaced.
            return outcome("UNKNOWN", f"a success answer without usable ids or cancelTime: {doc!r}"[:500], result)
        return outcome("SUCCESS", result=result, cancelTime=cancel_time.rfc3339(), **ids)

    def untrusted(self, answer, status):
        """Why the answer cannot be believed, or None. Only F and U may arrive unsigned (the
        gateway does not sign a refusal of a request it could not authenticate)."""
        signature = answer.headers.get("signature")
        response_time = answer.headers.get("response-time")
        if signature is None and response_time is None:
            return None if status in ("F", "U") else "an unsigned success answer"
        if signature is None or response_time is None:
            return "only one of `signature` and `response-time` is present"
        echoed = answer.headers.get("client-id")
        if echoed is not None and echoed != self.client_id:
            return f"the answer is for client id {echoed!r}, not {self.client_id!r}"
        try:
            pairs = parse_signature_header(signature)
        except ValueError as e:
            return f"signature header: {e}"
        if pairs.get("algorithm") != "RSA256":
            return f"signature header: algorithm {pairs.get('algorithm')!r}, expected RSA256"
        if not pairs.get("signature"):
            return "signature header: empty or missing `signature`"
        return verify(self.vendor_key, self.path, self.client_id, response_time, answer.body,
                      pairs["signature"])


# --- The adapter protocol --------------------------------------------------------------------

def handle(line):
    try:
        instruction = json.loads(line)
    except ValueError as e:
        return outcome("UNKNOWN", f"unreadable instruction: {e}")
    if not isinstance(instruction, dict) or instruction.get("protocol") != PROTOCOL:
        return outcome("UNKNOWN", f"not an {PROTOCOL} instruction")
    tag = f"[{instruction.get('scenario', '?')}]"
    try:
        client = CancelClient(instruction["gateway"], instruction["timeoutMs"])
    except (KeyError, TypeError, ValueError) as e:  # a broken instruction: nothing to call
        return outcome("UNKNOWN", f"unusable instruction: {type(e).__name__}: {e}")
    try:
        fields = instruction.get("request")
        if not isinstance(fields, dict):
            return outcome("INVALID_REQUEST", "refused locally: `request` is not an object")
        result = client.cancel(fields, tag)
    except Exception as e:  # a bug of ours: say so, but still answer this instruction
        log(f"{tag} unexpected error:\n{traceback.format_exc()}")
        return outcome("UNKNOWN", f"adapter error: {type(e).__name__}: {e}")
    log(f"{tag} -> {result['outcome']} {result.get('resultCode', '')} {result.get('error', '')}".rstrip())
    return result


def main(argv):
    if "--capabilities" in argv[1:]:
        print(json.dumps(CAPABILITIES))
        return 0
    for raw in sys.stdin.buffer:
        line = raw.decode("utf-8", errors="replace").strip()
        if not line:
            continue
        # ASCII-only JSON: one line whatever the locale's encoding.
        sys.stdout.write(json.dumps(handle(line), ensure_ascii=True) + "\n")
        sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
