#!/usr/bin/env bash
# The nine attacks of issue 21 against `serve` and `proxy`, each on a fresh process of a release
# build: each attack's peak RSS (VmHWM) beside its bound, and whether a normal signed request
# is answered at once after it (with its time). Loopback only.
#
#   benches/hostile.sh [KIT]     KIT: the kit's binary (default target/release/alipay-cancel-kit)
#
# Needs python3 and openssl (the signed request is signed with the committed TEST-ONLY key).
# Takes under a minute (18 s on a loaded 2-core machine). Attacks 7-9 are about files and bytes, not memory: they print what
# they found instead of a peak.
set -euo pipefail
cd "$(dirname "$0")/.."
KIT=$(readlink -f "${1:-target/release/alipay-cancel-kit}")
[ -x "$KIT" ] || { echo "no kit binary at $KIT (cargo build --release)" >&2; exit 2; }
command -v python3 >/dev/null && command -v openssl >/dev/null || { echo "needs python3 and openssl" >&2; exit 2; }
WORK=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$WORK"' EXIT
base64 -d conformance/keys/TEST-ONLY-merchant-private.pkcs8.b64 | openssl pkey -inform DER -out "$WORK/merchant.pem"
echo "kit: $KIT"
printf '%-3s %-58s %12s %10s  %s\n' '#' attack 'peak RSS' bound 'signed request after'

python3 - "$KIT" "$WORK" <<'PY'
import json, os, resource, socket, ssl, subprocess, sys, tempfile, threading, time, urllib.parse
import base64, http.server, socketserver

KIT, WORK = sys.argv[1], sys.argv[2]
BOUND_MB = 150
PATH = "/ams/api/v1/payments/cancel"
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 8192), hard))

def start(args, prefix=()):
    p = subprocess.Popen(list(prefix) + [KIT] + args + ["--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    ready = json.loads(p.stdout.readline())
    return p, ready

def peak_mb(p):
    with open(f"/proc/{p.pid}/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")

def addr(ready):
    u = urllib.parse.urlsplit(ready["url"])
    return ("127.0.0.1", u.port)

def signed_request(ready, path=PATH):
    """A normal signed cancel; (status, seconds)."""
    body = json.dumps({"paymentRequestId": "hostile-after-%d" % time.time_ns()}).encode()
    t = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    client = "TEST_5YBZ1"
    to_sign = b"POST " + path.encode() + b"\n" + client.encode() + b"." + t.encode() + b"." + body
    sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", f"{WORK}/merchant.pem"], input=to_sign, capture_output=True, check=True).stdout
    sig = urllib.parse.quote(base64.b64encode(sig).decode(), safe="")
    head = (f"POST {path} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json; charset=UTF-8\r\nclient-id: {client}\r\n"
            f"request-time: {t}\r\nsignature: algorithm=RSA256,keyVersion=1,signature={sig}\r\nconnection: close\r\ncontent-length: {len(body)}\r\n\r\n")
    started = time.monotonic()
    s = socket.create_connection(addr(ready), timeout=30)
    if ready["url"].startswith("https"):
        ctx = ssl.create_default_context(cadata=ready["caCertificatePem"])
        s = ctx.wrap_socket(s, server_hostname="localhost")
    s.sendall(head.encode() + body)
    answer = b""
    try:
        while chunk := s.recv(65536):
            answer += chunk
    except OSError:
        pass
    s.close()
    status = answer.split(b" ", 2)[1].decode() if answer.startswith(b"HTTP/") else "none"
    return status, time.monotonic() - started

def row(n, what, p, ready, bound=BOUND_MB, path=PATH):
    peak = peak_mb(p)
    try:
        status, took = signed_request(ready, path)
        after = f"HTTP {status} in {took:.2f} s"
    except Exception as e:
        after = f"FAILED: {e}"
    print(f"{n:<3} {what:<58} {peak:9.1f} MB {bound:>7} MB  {after}", flush=True)

def stop(p):
    p.terminate()
    try:
        p.wait(10)
    except subprocess.TimeoutExpired:
        p.kill()

def connections(ready, n):
    held = []
    for _ in range(n):
        try:
            held.append(socket.create_connection(addr(ready), timeout=5))
        except OSError:
            break
    return held

def send_raw(ready, data, read=True):
    s = socket.create_connection(addr(ready), timeout=30)
    try:
        s.sendall(data)
        out = b""
        if read:
            while chunk := s.recv(65536):
                out += chunk
        return out
    except OSError:
        return b""
    finally:
        s.close()

# 1. A full descriptor table on the TLS listener.
p, ready = start(["serve", "--tls"], prefix=("prlimit", "--nofile=1024:1024", "--"))
held = connections(ready, 1100)
time.sleep(1)
row(1, f"TLS, descriptor table full ({len(held)} idle connections held)", p, ready)
for s in held: s.close()
stop(p)

# 2. 2,000 TLS connections that never say hello.
p, ready = start(["serve", "--tls"])
held = connections(ready, 2000)
time.sleep(1)
row(2, f"TLS, {len(held)} connections that never say hello", p, ready)
for s in held: s.close()
stop(p)

# 3. 100 unsigned 1 MB requests, with --report-json and --junit.
p, ready = start(["serve", "--report-json", f"{WORK}/r.json", "--junit", f"{WORK}/r.xml"])
big = json.dumps({"paymentId": "x" * 500_000, "paymentRequestId": "y" * 500_000}).encode()
for _ in range(100):
    send_raw(ready, f"POST {PATH} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nclient-id: TEST_5YBZ1\r\nconnection: close\r\ncontent-length: {len(big)}\r\n\r\n".encode() + big)
row(3, "100 unsigned 1 MB requests (journal, reports)", p, ready)
stop(p)

# 4. Three 100 KB arms, times 1000, then DELETE.
p, ready = start(["serve"])
for i in range(3):
    arm = json.dumps({"answers": [{"status": 503, "rawBody": "z" * 100_000}], "times": 1000, "id": f"nobody-{i}"}).encode()
    send_raw(ready, f"POST /__kit/arm HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {len(arm)}\r\n\r\n".encode() + arm)
send_raw(ready, b"DELETE /__kit/requests HTTP/1.1\r\nhost: localhost\r\nconnection: close\r\n\r\n")
row(4, "three 100 KB arms with times 1000, then DELETE", p, ready)
stop(p)

# 5 and 6. proxy in front of an upstream that answers without end, or 50 MB at a time.
class Upstream(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a): pass
    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if "endless" in self.path:
            self.send_response(200); self.send_header("transfer-encoding", "chunked"); self.end_headers()
            chunk = b"%x\r\n" % 65536 + b"e" * 65536 + b"\r\n"
            deadline = time.monotonic() + 8
            try:
                while time.monotonic() < deadline:
                    self.wfile.write(chunk)
            except OSError:
                pass
            self.close_connection = True
        elif "big" in self.path:
            body = b"b" * 50_000_000
            self.send_response(200); self.send_header("content-length", str(len(body))); self.end_headers()
            try: self.wfile.write(body)
            except OSError: pass
        else:
            body = b'{"result":{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"success"},"paymentId":"1","paymentRequestId":"1","cancelTime":"2026-12-01T10:00:00.000+08:00"}'
            self.send_response(200); self.send_header("content-type", "application/json"); self.send_header("content-length", str(len(body))); self.end_headers()
            self.wfile.write(body)
server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Upstream)
server.daemon_threads = True
threading.Thread(target=server.serve_forever, daemon=True).start()
upstream = f"http://127.0.0.1:{server.server_address[1]}"
p, ready = start(["proxy", "--upstream", upstream, "--upstream-timeout", "5"])
send_raw(ready, b"POST /endless HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}")
row(5, "proxy, an endless chunked upstream answer", p, ready)
stop(p)
p, ready = start(["proxy", "--upstream", upstream, "--upstream-timeout", "20"])
for _ in range(2):
    send_raw(ready, b"POST /big HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{}")
row(6, "proxy, two 50 MB upstream answers", p, ready)
stop(p)

# 7. A link planted where the --exec CA file used to go (the next 300 pids' names).
tmp = tempfile.mkdtemp(dir=WORK)
victim = os.path.join(WORK, "victim")
open(victim, "w").write("precious\n")
base = int(open("/proc/sys/kernel/ns_last_pid").read())
for pid in range(base + 1, base + 301):
    os.symlink(victim, os.path.join(tmp, f"alipay-cancel-kit-ca-{pid}.pem"))
subprocess.run([KIT, "serve", "--tls", "--port", "0", "--exec", "true"], env={**os.environ, "TMPDIR": tmp}, capture_output=True)
intact = open(victim).read() == "precious\n"
print(f"{7:<3} {'--exec CA file through a planted link':<58} {'-':>12} {'-':>10}  victim file {'intact' if intact else 'OVERWRITTEN'}", flush=True)

# 8. --keys: the user's own private key in a world-readable ready file.
keys = os.path.join(WORK, "keys"); os.mkdir(keys)
for name in ["merchant-private.pkcs8.b64", "vendor-private.pkcs8.b64"]:
    pem = subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"], capture_output=True, check=True).stdout
    der = subprocess.run(["openssl", "pkcs8", "-topk8", "-nocrypt", "-outform", "DER"], input=pem, capture_output=True, check=True).stdout
    open(os.path.join(keys, name), "w").write(base64.b64encode(der).decode())
ready_file = os.path.join(WORK, "ready.json")
out = subprocess.run([KIT, "serve", "--port", "0", "--keys", keys, "--ready-file", ready_file, "--exec", "env"], capture_output=True, text=True)
line = open(ready_file).read()
mode = oct(os.stat(ready_file).st_mode & 0o777)
leaks = [where for where, text in [("ready file", line), ("stdout/exec env", out.stdout)] if "merchantPrivateKey" in text or "MERCHANT_PRIVATE_KEY" in text]
print(f"{8:<3} {'--keys: your private key handed out':<58} {'-':>12} {'-':>10}  ready file {mode}; key in: {', '.join(leaks) or 'nowhere'}", flush=True)

# 9. A bare LF in Client-Id, echoed into the answer.
p, ready = start(["serve"])
answer = send_raw(ready, f"POST {PATH} HTTP/1.1\r\nhost: localhost\r\ncontent-type: application/json\r\nClient-Id: A\nSet-Cookie: pwned=1\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{{}}".encode())
head = answer.split(b"\r\n\r\n")[0].decode(errors="replace")
injected = any(l.lower().startswith("set-cookie") for l in head.replace("\r\n", "\n").split("\n"))
status = head.split(" ")[1] if head.startswith("HTTP/") else "none"
peak = peak_mb(p)
try:
    st, took = signed_request(ready); after = f"HTTP {st} in {took:.2f} s"
except Exception as e:
    after = f"FAILED: {e}"
print(f"{9:<3} {'bare LF in Client-Id (HTTP %s, Set-Cookie %s)' % (status, 'INJECTED' if injected else 'not injected'):<58} {peak:9.1f} MB {BOUND_MB:>7} MB  {after}", flush=True)
stop(p)
server.shutdown()
PY
