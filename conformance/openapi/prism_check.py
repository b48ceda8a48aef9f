"""Prism mocks schema/openapi.json: every result-code row by name, on both paths, and a 422 for
a body the request schema refuses. Prism runs on a free loopback port and is always stopped."""

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

HEADERS = {
    "Content-Type": "application/json; charset=UTF-8",
    "Client-Id": "TEST_5YBZ1",
    "Request-Time": "1685599933871",
    # Prism cannot check the RSA signature (OpenAPI cannot express it): any value passes there.
    "Signature": "algorithm=RSA256,keyVersion=1,signature=not-checked-by-prism",
}
PATHS = ["/ams/api/v1/payments/cancel", "/ams/sandbox/api/v1/payments/cancel"]


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def post(base, path, body, extra=None):
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), method="POST",
        headers={**HEADERS, **(extra or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def main(prism, document):
    table = json.load(open("schema/result-codes.json"))["rows"]
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [prism, "mock", "-h", "127.0.0.1", "-p", str(port), document],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    failures = []
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                post(base, PATHS[0], {"paymentId": "ready"})
                break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None or time.monotonic() > deadline:
                    sys.exit(f"prism did not start on {base}: {server.stdout.read()}")
                time.sleep(0.2)
        for path in PATHS:
            for row in table:
                code = row["resultCode"]
                status, body = post(base, path, {"paymentRequestId": "pay-1"},
                                    {"Prefer": f"example={code}"})
                result = (body or {}).get("result", {})
                if status != 200 or result.get("resultCode") != code \
                        or result.get("resultStatus") != row["resultStatus"]:
                    failures.append(f"{path} example={code}: {status} {body}")
            status, body = post(base, path, {"paymentId": 20})
            if status != 422:
                failures.append(f"{path} with paymentId 20: expected 422, got {status} {body}")
    finally:
        server.terminate()
        try:
            server.wait(timeout=5)
        except subprocess.TimeoutExpired:
            server.kill()
    for failure in failures:
        print("prism:", failure, file=sys.stderr)
    checked = 2 * (len(table) + 1)
    print(f"prism: {checked - len(failures)} passed, {len(failures)} failed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
