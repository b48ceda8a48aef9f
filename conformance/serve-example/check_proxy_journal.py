"""Checks the journal of `proxy` after the pytest suite ran through it to `serve`: every answer
is classified as the contract says for the scenario its magic id named (or the test armed for
an `armed-<CODE>-` id), no request broke a MUST check, and the proxy's exit status is 1 exactly
because answers that must not be believed (an unsigned S, a tampered signature) passed through
(run pytest as `pytest ... || exit 3` under `proxy --exec`, so a failed suite is not taken for
that 1).

Usage: check_proxy_journal.py JOURNAL EXIT_STATUS"""

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[2]
TABLE = json.loads((ROOT / "schema" / "result-codes.json").read_text(encoding="utf-8"))["rows"]
SIGNED = {"S": "signed-success", "F": "signed-failure", "U": "signed-unknown"}
EXPECTED = {"result/" + row["resultCode"]: [SIGNED[row["resultStatus"]]] for row in TABLE}
EXPECTED.update({
    "signature/missing-on-success": ["unsigned-success"],
    "signature/tampered-success": ["signature-invalid"],
    # The proxy waits for the late answer the client gave up on: a signed S.
    "fault/timeout": ["signed-success"],
    "retry/u-then-success": ["signed-unknown", "signed-success"],
})


def scenario_of(sent):
    """The scenario an id plays: `kit:<scenario>:<unique>` (a magic id), `armed-<CODE>-<unique>`
    (an id the test armed `result/<CODE>` for), or None for an ordinary id."""
    if sent.startswith("kit:"):
        return sent.split(":")[1]
    if sent.startswith("armed-"):
        return "result/" + sent.split("-")[1]
    return None


def main(journal, exit_status):
    lines = [json.loads(line) for line in open(journal, encoding="utf-8")]
    failures, seen = [], {}
    for line in lines:
        body = json.loads(line["request"])
        sent = body.get("paymentId") or body.get("paymentRequestId") or ""
        scenario = scenario_of(sent)
        seen.setdefault(sent, []).append(line["class"])
        must = [c["id"] for c in line["checks"] if c["id"].startswith("request[") and c["level"] == "MUST"]
        if must:
            failures.append("%s: request checks failed: %s" % (sent, must))
        if scenario is None and line["class"] != "signed-success":
            failures.append("%s: an ordinary id got %s" % (sent, line["class"]))
    for sent, classes in seen.items():
        if scenario_of(sent) is not None:
            expected = EXPECTED.get(scenario_of(sent))
            if expected is not None and classes != expected:
                failures.append("%s: classified %s, expected %s" % (sent, classes, expected))
    if exit_status != 1:
        failures.append("proxy exited %s, expected 1 (unbelievable answers passed through)" % exit_status)
    for failure in failures:
        print("proxy journal:", failure, file=sys.stderr)
    print("proxy journal: %d exchanges checked, %d problems" % (len(lines), len(failures)))
    return 1 if failures or len(lines) < 20 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2])))
