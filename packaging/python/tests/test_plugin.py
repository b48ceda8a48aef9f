"""Self-tests of the pytest plugin and the `alipay_cancel_kit` package, run against the kit's
real binary: each writes a small test suite, runs it in a pytest of its own (pytester, a
subprocess: the plugin loads through its `pytest11` entry point there, as in a user's
project) and checks what the suite saw and what happened to `serve`.

Run with the wheel installed: `python -m pytest -p pytester packaging/python/tests`.
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import alipay_cancel_kit
from alipay_cancel_kit import KitError, Violations, find_binary

# Every variable that would make the fixture use another gateway or binary than the test's.
KIT_VARIABLES = [name for name in os.environ if name.startswith("ALIPAY_KIT_")]


@pytest.fixture(autouse=True)
def no_gateway_from_outside(monkeypatch):
    """These tests run inside `serve --exec` in CI too: what it exports must not leak into the
    suites they start (except where a test sets it on purpose)."""
    for name in KIT_VARIABLES:
        monkeypatch.delenv(name, raising=False)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie is not alive: it exited, its parent has not reaped it yet.
    with open("/proc/%d/stat" % pid) as f:
        return f.read().split(")")[-1].split()[0] != "Z"


def signed_cancel(gateway, request):
    """A correctly signed cancel through the kit's own reference client (no crypto library
    needed in this environment): returns the outcome it surfaced."""
    instruction = {
        "protocol": "alipay-cancel-kit/1",
        "scenario": "plugin-self-test",
        "gateway": gateway.ready,
        "request": request,
        "timeoutMs": 3000,
    }
    done = subprocess.run(
        [find_binary(), "reference-adapter"],
        input=json.dumps(instruction) + "\n",
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)


SUITE = '''
import json, os, ssl, urllib.request

def test_the_facts(cancel_kit):
    with open(os.path.join({outdir!r}, "facts.json"), "w") as f:
        json.dump({{
            "pid": cancel_kit.process.pid if cancel_kit.process else None,
            "url": cancel_kit.url, "client_id": cancel_kit.client_id,
            "merchant_private_key": cancel_kit.merchant_private_key,
            "merchant_public_key": cancel_kit.merchant_public_key,
            "alipay_public_key": cancel_kit.alipay_public_key,
            "key_version": cancel_kit.key_version, "ca_file": cancel_kit.ca_file,
            "ca_pem": open(cancel_kit.ca_file).read() if cancel_kit.ca_file else None,
            "magic": [cancel_kit.magic("result/ORDER_NOT_EXIST") for _ in range(3)],
        }}, f)
    context = ssl.create_default_context(cafile=cancel_kit.ca_file) if cancel_kit.ca_file else None
    with urllib.request.urlopen(cancel_kit.url + "/__kit/health", context=context) as answer:
        assert json.load(answer)["status"] == "ok"

def test_the_same_gateway_for_the_session(cancel_kit):
    with open(os.path.join({outdir!r}, "facts.json")) as f:
        assert json.load(f)["url"] == cancel_kit.url
'''


def facts_of(pytester, *args):
    pytester.makepyfile(test_facts=SUITE.format(outdir=str(pytester.path)))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
    result.assert_outcomes(passed=2)
    with open(pytester.path / "facts.json") as f:
        return result, json.load(f)


def test_the_fixture_starts_serve_on_loopback_and_stops_it(pytester):
    result, facts = facts_of(pytester)
    assert facts["url"].startswith("http://127.0.0.1:")
    assert facts["client_id"] == "TEST_5YBZ1"
    for key in ("merchant_private_key", "merchant_public_key", "alipay_public_key"):
        assert facts[key].startswith("MII"), key  # base64 DER
    assert facts["key_version"] == "1"
    assert facts["ca_file"] is None
    assert len(set(facts["magic"])) == 3
    assert all(m.startswith("kit:result/ORDER_NOT_EXIST:") for m in facts["magic"])
    assert not alive(facts["pid"])
    result.stdout.fnmatch_lines(["alipay-cancel-kit: plugin *alipay_cancel_kit; serve started from *"])
    # /__kit/ endpoints are not cancel requests: none was made.
    result.stdout.fnmatch_lines(["alipay-cancel-kit serve http://127.0.0.1:*: 0 requests, 0 broke a MUST check*; exit status 0"])


def test_tls_gives_https_and_a_ca_file(pytester):
    _, facts = facts_of(pytester, "--cancel-kit-tls")
    assert facts["url"].startswith("https://localhost:")
    assert facts["ca_pem"].startswith("-----BEGIN CERTIFICATE-----")
    assert not os.path.exists(facts["ca_file"]), "the private folder is removed at the end"
    assert not alive(facts["pid"])


def test_serve_is_stopped_when_tests_fail_and_when_the_session_is_interrupted(pytester):
    pytester.makepyfile(
        test_failing="""
        import os
        def test_fails(cancel_kit):
            with open(os.path.join(%r, "pid"), "w") as f:
                f.write(str(cancel_kit.process.pid))
            assert False, "on purpose"
        def test_interrupts(cancel_kit):
            raise KeyboardInterrupt
        """
        % str(pytester.path)
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.INTERRUPTED
    result.stdout.fnmatch_lines(["*AssertionError: on purpose*"])
    assert not alive(int((pytester.path / "pid").read_text()))


def test_the_gateway_serve_exec_started_is_used(pytester):
    pytester.makepyfile(
        test_env="""
        import os
        def test_env(cancel_kit):
            assert cancel_kit.process is None
            assert cancel_kit.url == os.environ["ALIPAY_KIT_URL"].rstrip("/")
            assert cancel_kit.ca_file == os.environ["ALIPAY_KIT_CA_FILE"]
            assert cancel_kit.merchant_private_key == os.environ["ALIPAY_KIT_MERCHANT_PRIVATE_KEY"]
            cancel_kit.arm("result/PROCESS_FAIL")
            assert cancel_kit.requests() == []
        """
    )
    command = "%s -m pytest -p no:cacheprovider test_env.py" % sys.executable
    done = subprocess.run(
        [find_binary(), "serve", "--tls", "--port", "0", "--exec", command],
        cwd=str(pytester.path),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
    assert "the gateway from the environment, https://localhost:" in done.stdout
    assert "alipay-cancel-kit serve http" not in done.stdout, "the fixture started a serve of its own"


def test_arm_requests_clear_and_violations(pytester):
    with alipay_cancel_kit.start() as gateway:
        assert gateway.arm("result/PROCESS_FAIL", times=1)["waiting"] == 1
        assert signed_cancel(gateway, {"paymentId": "order-1"})["resultCode"] == "PROCESS_FAIL"
        assert signed_cancel(gateway, {"paymentId": "order-2"})["outcome"] == "SUCCESS"
        assert [r["ids"] for r in gateway.requests()] == [{"paymentId": "order-1"}, {"paymentId": "order-2"}]
        assert [r["ids"] for r in gateway.requests(id="order-2")] == [{"paymentId": "order-2"}]
        gateway.assert_no_violations()
        mark = gateway.mark()
        # A request with no signature, no Client-Id, no Request-Time: MUST checks break.
        gateway._call("POST", gateway.url, "/ams/api/v1/payments/cancel", {"paymentId": "unsigned"})
        failures = gateway.violations(since=mark)
        assert {f["id"] for f in failures} >= {"request[3].signature", "request[3].client-id"}
        with pytest.raises(Violations) as raised:
            gateway.assert_no_violations(since=mark)
        text = str(raised.value)
        assert "request 3: /ams/api/v1/payments/cancel (paymentId=unsigned)" in text
        assert "request[3].signature (MUST): a Signature header must be sent" in text
        assert "[docs/contract.md#request-checks 5]" in text
        # The same from an answer's headers, as http.client gives them.
        header = json.dumps([{"id": "request[9].signature", "level": "MUST", "message": "a Signature header must be sent"}])
        with pytest.raises(Violations, match=r"request\[9\]\.signature"):
            gateway.assert_no_violations(headers=[("X-Kit-Violations", header)])
        gateway.assert_no_violations(headers={"content-type": "application/json"})
        gateway.clear()
        assert gateway.requests() == []
        gateway.assert_no_violations()  # clear() starts a new window
        assert signed_cancel(gateway, {"paymentId": "order-1"})["outcome"] == "SUCCESS"
    assert gateway.returncode == 1, "serve exits 1: a request broke a MUST check"
    assert gateway.totals == {"requests": 4, "mustFailed": 1, "shouldFailed": 0}
    assert not alive(gateway.process.pid)


def test_a_test_fails_with_the_kits_words(pytester):
    pytester.makepyfile(
        test_violation="""
        import json, urllib.request
        def send_unsigned(cancel_kit):
            request = urllib.request.Request(cancel_kit.url + "/ams/api/v1/payments/cancel",
                data=json.dumps({"paymentId": "unsigned"}).encode(), method="POST")
            urllib.request.urlopen(request).read()
        def test_checked_by_hand(cancel_kit):
            send_unsigned(cancel_kit)
            cancel_kit.assert_no_violations()
        def test_a_clean_test_after_it_is_not_blamed(cancel_kit):
            cancel_kit.assert_no_violations()
        def test_strict(cancel_kit):
            send_unsigned(cancel_kit)
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--cancel-kit-strict")
    # test_checked_by_hand fails, and (strict) errors at teardown; test_strict passes and
    # errors at teardown; the clean test after the first is not blamed for its request.
    result.assert_outcomes(passed=2, failed=1, errors=2)
    result.stdout.fnmatch_lines(
        [
            "*ERROR at teardown of test_strict*",
            "*cancel_kit (--cancel-kit-strict): 4 failed checks of the kit in 1 request:*",
            "*request 2: /ams/api/v1/payments/cancel (paymentId=unsigned)*",
            "*request[[]2[]].signature (MUST): a Signature header must be sent*",
            "*FAILURES*",
            "*Violations: 4 failed checks of the kit in 1 request:*",
            "*request[[]1[]].signature (MUST): a Signature header must be sent*",
        ]
    )


def test_alipay_kit_bin_is_the_binary_used(pytester, tmp_path, monkeypatch):
    real = find_binary()
    wrapper = tmp_path / "kit"
    wrapper.write_text('#!/bin/sh\necho "$@" >> %s/calls\nexec %s "$@"\n' % (tmp_path, real))
    wrapper.chmod(0o755)
    pytester.makepyfile(test_one="def test_one(cancel_kit):\n    assert cancel_kit.url\n")
    monkeypatch.setenv("ALIPAY_KIT_BIN", str(wrapper))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--cancel-kit-arg=--client-id", "--cancel-kit-arg=MY_CLIENT")
    result.assert_outcomes(passed=1)
    calls = (tmp_path / "calls").read_text()
    assert calls.startswith("serve --host 127.0.0.1 --port 0 --ready-file ")
    assert calls.rstrip().endswith("--client-id MY_CLIENT")


def test_clear_errors(pytester, tmp_path, monkeypatch):
    pytester.makepyfile(test_one="def test_one(cancel_kit):\n    pass\n")
    missing = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--cancel-kit-bin", str(tmp_path / "nothing"))
    missing.assert_outcomes(errors=1)
    missing.stdout.fnmatch_lines(["*cancel_kit: --cancel-kit-bin names */nothing, which is not an executable file*"])

    died = pytester.runpytest_subprocess("-p", "no:cacheprovider", "--cancel-kit-arg=--port=nonsense")
    died.assert_outcomes(errors=1)
    died.stdout.fnmatch_lines(["*cancel_kit: `*alipay-cancel-kit serve * --port=nonsense` exited with status 2 before it was ready; its standard error:*"])
    died.stdout.fnmatch_lines(["*nonsense*"])

    monkeypatch.setenv("ALIPAY_KIT_URL", "http://127.0.0.1:9")
    partial = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    partial.assert_outcomes(errors=1)
    partial.stdout.fnmatch_lines(["*ALIPAY_KIT_URL is set, but not ALIPAY_KIT_CLIENT_ID, ALIPAY_KIT_MERCHANT_PRIVATE_KEY*"])


def test_a_proxy_gateway_takes_its_keys_from_the_serve_behind_it(tmp_path):
    with alipay_cancel_kit.start() as upstream:
        ready_file = tmp_path / "serve.json"
        ready_file.write_text(json.dumps(upstream.ready))
        proxy_ready = tmp_path / "proxy.json"
        proxy = subprocess.Popen(
            [find_binary(), "proxy", "--upstream", upstream.url, "--port", "0", "--ready-file", str(proxy_ready)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            for _ in range(3000):
                if proxy_ready.exists():
                    break
                assert proxy.poll() is None, "proxy exited"
                time.sleep(0.01)
            ready = proxy_ready.read_text()
            environ = {"ALIPAY_KIT_URL": json.loads(ready)["url"], "ALIPAY_KIT_READY": ready}
            with pytest.raises(KitError, match="a proxy exports no keys: set ALIPAY_KIT_SERVE_READY_FILE"):
                alipay_cancel_kit.from_environment(environ)
            environ["ALIPAY_KIT_SERVE_READY_FILE"] = str(ready_file)
            gateway = alipay_cancel_kit.from_environment(environ)
            assert gateway.url == json.loads(ready)["url"]
            assert gateway.control_url == upstream.url
            assert gateway.merchant_private_key == upstream.merchant_private_key
            gateway.arm("result/ORDER_STATUS_INVALID")  # reaches the serve behind the proxy
            assert signed_cancel(gateway, {"paymentId": "through-the-proxy"})["resultCode"] == "ORDER_STATUS_INVALID"
            assert signed_cancel(gateway, {"paymentId": "another"})["outcome"] == "SUCCESS"
            assert len(gateway.requests(id="another")) == 1  # the proxy's journal, filtered
            gateway.stop()  # a gateway from the environment is not ours to stop
            assert proxy.poll() is None
        finally:
            proxy.send_signal(signal.SIGTERM)
            proxy.wait(timeout=10)


def test_python_dash_m_runs_the_binary():
    done = subprocess.run([sys.executable, "-m", "alipay_cancel_kit", "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout.strip() == "alipay-cancel-kit " + alipay_cancel_kit.__version__
    failed = subprocess.run(
        [sys.executable, "-m", "alipay_cancel_kit", "validate", "/nonexistent.json"], capture_output=True, text=True
    )
    assert failed.returncode == 2, "the binary's exit status comes back"
    assert "/nonexistent.json" in failed.stderr


def test_magic_refuses_what_is_not_a_scenario():
    with pytest.raises(ValueError, match="scenario id"):
        alipay_cancel_kit.Gateway.magic("kit:result/SUCCESS")
