//! `serve`: the standing gateway, driven the way an SDK's own tests drive it.

use super::common::{closed_port, fresh_dir, raw_exchange, runtime, BIN};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use alipay_cancel_kit::protocol::{GatewayInfo, Instruction, OutcomeKind, PROTOCOL};
use alipay_cancel_kit::reference_client::{self, Behaviour};
use alipay_cancel_kit::scenario::{Catalogue, Transport};
use alipay_cancel_kit::schema::Schema;
use alipay_cancel_kit::serve::{self, ServeConfig, Server, Session, VIOLATIONS_HEADER};
use alipay_cancel_kit::signature::{self, TestKeys};
use alipay_cancel_kit::verdict::{Check, Level};
use serde_json::{json, Value};

const PATH: &str = "/ams/api/v1/payments/cancel";

fn gateway_info(server: &Server) -> GatewayInfo {
    serde_json::from_value(serde_json::to_value(server.ready()).unwrap())
        .expect("the ready line holds a GatewayInfo")
}

/// The reference client cancels `request` against the server.
async fn cancel(server: &Server, request: Value) -> alipay_cancel_kit::protocol::Outcome {
    let Value::Object(request) = request else {
        panic!("a request is an object")
    };
    let instruction = Instruction {
        protocol: PROTOCOL.into(),
        scenario: "serve".into(),
        gateway: gateway_info(server),
        request,
        timeout_ms: 1500,
    };
    reference_client::cancel(&instruction, &Behaviour::default())
        .await
        .expect("the reference client does not crash")
}

/// One HTTP/1.1 exchange on a fresh connection: status, headers (lower case), body.
fn http(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let addr = server.url().trim_start_matches("http://");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    let raw = raw_exchange(
        addr,
        &[head.as_bytes(), body].concat(),
        Duration::from_secs(10),
    );
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a response head");
    let text = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = text.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, raw[split + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
}

/// A correctly signed cancel request's headers for `body`.
fn signed(client_id: &str, body: &[u8]) -> Vec<(&'static str, String)> {
    let keys = TestKeys::fixed();
    let time = chrono::Utc::now().timestamp_millis().to_string();
    let signature = signature::sign(&keys.merchant, PATH, client_id, &time, body);
    vec![
        ("content-type", "application/json; charset=UTF-8".to_owned()),
        ("client-id", client_id.to_owned()),
        ("request-time", time),
        ("signature", signature::header_value("1", &signature)),
    ]
}

fn admin(server: &Server, method: &str, path: &str, body: Value) -> (u16, Value) {
    let bytes = if body.is_null() {
        Vec::new()
    } else {
        body.to_string().into_bytes()
    };
    let json = [("content-type", "application/json".to_owned())];
    let (status, _, body) = http(server, method, path, &json, &bytes);
    (
        status,
        serde_json::from_slice(&body).expect("the kit's endpoints answer JSON"),
    )
}

/// Raw bytes to the server on a fresh connection; the answer as text, read to its end.
fn raw(server: &Server, bytes: &[u8]) -> String {
    let answer = raw_exchange(server.url(), bytes, Duration::from_secs(30));
    String::from_utf8_lossy(&answer).into_owned()
}

#[test]
fn an_ordinary_id_is_cancelled_once_and_remembered() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        let first = cancel(&server, json!({"paymentRequestId": "order-1"})).await;
        assert_eq!(first.outcome, OutcomeKind::Success, "{first:?}");
        assert_eq!(first.payment_request_id.as_deref(), Some("order-1"));
        let made_up = first.payment_id.clone().unwrap();
        assert!(made_up.starts_with("kit-pid-"), "{made_up}");
        let again = cancel(&server, json!({"paymentRequestId": "order-1"})).await;
        assert_eq!(
            again.cancel_time, first.cancel_time,
            "the same answer again"
        );
        assert_eq!(again.payment_id.as_deref(), Some(made_up.as_str()));
        let by_payment_id = cancel(&server, json!({"paymentId": made_up})).await;
        assert_eq!(
            by_payment_id.cancel_time, first.cancel_time,
            "remembered by either id"
        );
        let other = cancel(&server, json!({"paymentId": "pay-2"})).await;
        assert_eq!(other.payment_id.as_deref(), Some("pay-2"));
        assert!(other.payment_request_id.unwrap().starts_with("kit-prid-"));
        // A restarted gateway makes up the same id: tests may hard-code it.
        let restarted = Server::start(ServeConfig::loopback()).await.unwrap();
        let same = cancel(&restarted, json!({"paymentRequestId": "order-1"})).await;
        assert_eq!(same.payment_id.as_deref(), Some(made_up.as_str()));
        assert_eq!(server.totals().requests, 4);
        assert_eq!(server.exit_code(), alipay_cancel_kit::exit::Exit::Ok);
    });
}

/// Every scenario `serve` can play, through its magic id, gives the reference client an answer
/// it concludes correctly from: the outcome is one the last answer accepts.
#[test]
fn every_servable_scenario_is_played_by_its_magic_id() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        let catalogue = Catalogue::embedded().unwrap();
        let mut played = 0;
        for scenario in catalogue.scenarios() {
            let group = scenario.id.split('/').next().unwrap();
            if scenario.transport != Transport::Plain || group == "request" {
                continue;
            }
            let magic = format!("{}:t{played}", serve::state::magic_id(&scenario.id));
            let outcome = cancel(&server, json!({"paymentId": magic})).await;
            let journal: Vec<_> = server
                .journal()
                .into_iter()
                .filter(|e| e.request.ids.contains(&magic))
                .collect();
            let last = journal
                .last()
                .unwrap_or_else(|| panic!("{}: no request", scenario.id));
            assert!(
                last.answer.accept.contains(&outcome.outcome),
                "{}: {:?} after {:?}",
                scenario.id,
                outcome,
                last.source
            );
            if outcome.outcome == OutcomeKind::Success {
                assert_eq!(
                    outcome.payment_id.as_deref(),
                    Some(magic.as_str()),
                    "echoed"
                );
            }
            played += 1;
        }
        assert!(played >= 50, "only {played} scenarios played");
        assert_eq!(
            server.exit_code(),
            alipay_cancel_kit::exit::Exit::Ok,
            "the reference client breaks no request check"
        );
    });
}

#[test]
fn a_sequence_serves_its_answers_in_order_per_magic_id() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        let outcome = cancel(
            &server,
            json!({"paymentRequestId": "kit:retry/u-then-success:a"}),
        )
        .await;
        assert_eq!(outcome.outcome, OutcomeKind::Success, "{outcome:?}");
        let codes: Vec<String> = server
            .journal()
            .iter()
            .map(|e| {
                serde_json::from_str::<Value>(&e.answer.body).unwrap()["result"]["resultStatus"]
                    .to_string()
            })
            .collect();
        assert_eq!(codes, ["\"U\"", "\"S\""]);
        // Another suffix starts the sequence afresh.
        let body = br#"{"paymentRequestId":"kit:retry/u-then-success:b"}"#;
        let (_, _, answer) = http(&server, "POST", PATH, &signed("TEST_5YBZ1", body), body);
        assert!(String::from_utf8_lossy(&answer).contains("\"U\""));
    });
}

#[test]
fn a_magic_id_serve_cannot_play_is_not_believable_and_fails_the_session() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        assert_eq!(server.exit_code(), alipay_cancel_kit::exit::Exit::Ok);
        for (magic, code, says) in [
            (
                "kit:nope/nothing",
                "KIT_UNKNOWN_SCENARIO",
                "the groups are result, request, response",
            ),
            (
                "kit:result/ORDER_NOT_EXST:7",
                "KIT_UNKNOWN_SCENARIO",
                "did you mean `result/ORDER_NOT_EXIST`?",
            ),
            (
                "kit:tls/untrusted-certificate",
                "KIT_SCENARIO_NOT_SERVABLE",
                "needs its own TLS listener",
            ),
        ] {
            let body = json!({"paymentId": magic}).to_string();
            let (status, headers, answer) = http(
                &server,
                "POST",
                PATH,
                &signed("TEST_5YBZ1", body.as_bytes()),
                body.as_bytes(),
            );
            // Not a signed 200: no SDK may take it for an answer, so a test that asserts only
            // FAILED cannot pass on a mistyped scenario id.
            assert_eq!(status, 404, "{magic}");
            assert_eq!(header(&headers, "signature"), None, "{magic}");
            assert!(String::from_utf8_lossy(&answer).contains(code), "{magic}");
            let error = header(&headers, "x-kit-error").expect("x-kit-error");
            assert!(error.contains(says), "{magic}: {error}");
            let violations: Value =
                serde_json::from_str(header(&headers, VIOLATIONS_HEADER).expect("violations"))
                    .unwrap();
            assert_eq!(violations[0]["id"], serve::MAGIC_ID_CHECK, "{magic}");
            assert_eq!(violations[0]["level"], "MUST", "{magic}");
        }
        let outcome = cancel(&server, json!({"paymentRequestId": "kit:nope/nothing:2"})).await;
        assert_eq!(outcome.outcome, OutcomeKind::Unknown, "{outcome:?}");
        // Every request broke the check: the three above, and each of the client's calls (it
        // calls again after an answer it cannot use).
        let totals = server.totals();
        assert!(totals.requests > 3, "{totals:?}");
        assert_eq!(totals.must_failed, totals.requests);
        assert_eq!(server.exit_code(), alipay_cancel_kit::exit::Exit::Failures);
    });
}

/// The report's test cases say what each request asked and what it got, and carry no
/// properties of an adapter run.
#[test]
fn serve_reports_name_each_request_by_its_ids_and_answer() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        cancel(&server, json!({"paymentId": "kit:result/ORDER_NOT_EXIST"})).await;
        cancel(
            &server,
            json!({"paymentId": "kit:signature/unsigned-failure:3"}),
        )
        .await;
        cancel(&server, json!({"paymentRequestId": "kit:fault/http-500"})).await;
        let report = server.report();
        let ids: Vec<&str> = report.scenarios.iter().map(|s| s.id.as_str()).collect();
        assert_eq!(
            ids[0],
            "serve/1 kit:result/ORDER_NOT_EXIST -> F ORDER_NOT_EXIST"
        );
        assert_eq!(
            ids[1],
            "serve/2 kit:signature/unsigned-failure:3 -> F ORDER_NOT_EXIST (unsigned)"
        );
        assert!(
            ids[2].starts_with("serve/3 kit:fault/http-500 -> HTTP 500"),
            "{ids:?}"
        );
        let junit = alipay_cancel_kit::report::junit::render(&report);
        assert!(
            junit.contains(r#"name="serve/1 kit:result/ORDER_NOT_EXIST -&gt; F ORDER_NOT_EXIST""#),
            "{junit}"
        );
        for run_only in ["\"capabilities\"", "\"ids\""] {
            assert!(!junit.contains(run_only), "{run_only} in {junit}");
        }
    });
}

/// By default any client id is served, but a request must carry one: an empty or absent
/// `Client-Id`, correctly signed over it, gets the gateway's `CLIENT_INVALID`, and the journal
/// says why.
#[test]
fn any_client_id_is_served_but_none_and_an_empty_one_are_refused() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        let body = br#"{"paymentId":"p-any"}"#;
        let (status, _, answer) = http(&server, "POST", PATH, &signed("ANY_MERCHANT", body), body);
        assert_eq!(status, 200);
        assert!(String::from_utf8_lossy(&answer).contains(r#""resultStatus":"S""#));
        let empty = signed("", body);
        let absent: Vec<_> = empty
            .iter()
            .filter(|(name, _)| *name != "client-id")
            .cloned()
            .collect();
        for (headers, seen) in [(empty, ""), (absent, "(absent)")] {
            let (_, _, answer) = http(&server, "POST", PATH, &headers, body);
            assert!(
                String::from_utf8_lossy(&answer).contains("CLIENT_INVALID"),
                "{seen}"
            );
            let entry = server.journal().pop().unwrap();
            let check = entry
                .checks
                .iter()
                .find(|c| c.id.ends_with(".client-id"))
                .expect("check 3 failed");
            assert_eq!(
                check.message,
                "Client-Id is required: the API names the merchant by it"
            );
            assert_eq!(check.seen.as_deref(), Some(seen));
        }
    });
}

#[test]
fn refusals_and_violations_come_back_in_the_header() {
    runtime().block_on(async {
        let config = ServeConfig {
            client_id: Some("TEST_ONLY_ME".into()),
            ..ServeConfig::loopback()
        };
        let server = Server::start(config).await.unwrap();
        let body = br#"{"paymentId":"p-1"}"#;
        let (_, headers, answer) = http(&server, "POST", PATH, &signed("SOMEONE_ELSE", body), body);
        assert!(String::from_utf8_lossy(&answer).contains("CLIENT_INVALID"));
        assert_eq!(
            header(&headers, "signature"),
            None,
            "an unauthenticated refusal is unsigned"
        );
        let violations: Value =
            serde_json::from_str(header(&headers, VIOLATIONS_HEADER).unwrap()).unwrap();
        assert_eq!(violations[0]["id"], "request[1].client-id");

        let mut bad = signed("TEST_ONLY_ME", body);
        bad[3].1 = "algorithm=RSA256,keyVersion=1,signature=AAAA".into();
        let (_, _, answer) = http(&server, "POST", PATH, &bad, body);
        assert!(String::from_utf8_lossy(&answer).contains("INVALID_SIGNATURE"));

        let number = br#"{"paymentId":20}"#;
        let (_, headers, answer) = http(
            &server,
            "POST",
            PATH,
            &signed("TEST_ONLY_ME", number),
            number,
        );
        assert!(String::from_utf8_lossy(&answer).contains("PARAM_ILLEGAL"));
        assert!(
            header(&headers, "signature").is_some(),
            "PARAM_ILLEGAL is signed"
        );
        assert!(header(&headers, VIOLATIONS_HEADER)
            .unwrap()
            .contains(".body"));
        assert_eq!(server.totals().must_failed, 3);
        assert_eq!(server.exit_code(), alipay_cancel_kit::exit::Exit::Failures);
        let report = server.report();
        assert_eq!(report.summary.fail, 3);
        assert!(Schema::Report.is_valid(&serde_json::to_value(&report).unwrap()));
    });
}

#[test]
fn the_violations_header_is_cut_at_8_kib_saying_so() {
    let checks: Vec<Check> = (0..40)
        .map(|i| {
            Check::fail(
                &format!("request[1].c{i}"),
                Level::Must,
                "r",
                "é".repeat(100),
                "x",
                "y",
            )
        })
        .collect();
    let value = serve::violations_header(&checks).unwrap();
    assert!(
        value.len() <= serve::VIOLATIONS_HEADER_BYTES,
        "{}",
        value.len()
    );
    assert!(value.is_ascii() && !value.contains('\n'));
    let parsed: Vec<Value> = serde_json::from_str(&value).unwrap();
    let last = parsed.last().unwrap();
    assert_eq!(last["truncated"], true);
    assert_eq!(
        last["omitted"].as_u64().unwrap() as usize + parsed.len() - 1,
        40
    );
    assert_eq!(parsed[0]["message"], "é".repeat(100), "escaped, not lost");
    assert_eq!(
        serve::violations_header(&[Check::pass("a", Level::Must, "r", "ok")]),
        None
    );
}

#[test]
fn armed_answers_go_to_the_next_matching_requests() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        let (status, armed) = admin(
            &server,
            "POST",
            "/__kit/arm",
            json!({"scenario": "result/PROCESS_FAIL", "times": 2, "id": "o-7"}),
        );
        assert_eq!(status, 200, "{armed}");
        assert_eq!(armed["answers"], 2);
        let other = cancel(&server, json!({"paymentRequestId": "o-8"})).await;
        assert_eq!(
            other.outcome,
            OutcomeKind::Success,
            "another id is not armed"
        );
        for _ in 0..2 {
            let failed = cancel(&server, json!({"paymentRequestId": "o-7"})).await;
            assert_eq!(failed.result_code.as_deref(), Some("PROCESS_FAIL"));
        }
        let then = cancel(&server, json!({"paymentRequestId": "o-7"})).await;
        assert_eq!(then.outcome, OutcomeKind::Success, "used up");

        // Five, as a correct client may call again after no usable answer, up to five times.
        let answers = json!({"answers": [{"status": 503, "rawBody": "busy"}], "times": 5});
        assert_eq!(admin(&server, "POST", "/__kit/arm", answers).0, 200);
        let unknown = cancel(&server, json!({"paymentId": "x-1"})).await;
        assert_eq!(unknown.outcome, OutcomeKind::Unknown);

        for (bad, names) in [
            (json!({"scenario": "result/NOPE"}), "result/NOPE"),
            (
                json!({"scenario": "result/SUCCESS", "answers": []}),
                "exactly one",
            ),
            (
                json!({"answers": [{"status": 200, "bodee": {}}]}),
                "answers[0]",
            ),
            (json!({"scenario": "result/SUCCESS", "times": 0}), "times"),
        ] {
            let (status, error) = admin(&server, "POST", "/__kit/arm", bad.clone());
            assert_eq!(status, 400, "{bad}");
            assert!(
                error["error"].as_str().unwrap().contains(names),
                "{bad}: {error}"
            );
        }
    });
}

/// A loopback serve writing `--journal` into a fresh scratch directory: the server, the
/// directory (to remove at the end) and the journal file.
async fn serve_with_journal() -> (Server, std::path::PathBuf, std::path::PathBuf) {
    let dir = fresh_dir("serve");
    let file = dir.join("journal.ndjson");
    let config = ServeConfig {
        journal_file: Some(file.clone()),
        ..ServeConfig::loopback()
    };
    (Server::start(config).await.unwrap(), dir, file)
}

#[test]
fn the_journal_lists_filters_clears_and_writes_traffic_validate_reads() {
    runtime().block_on(async {
        let (server, dir, file) = serve_with_journal().await;
        cancel(&server, json!({"paymentId": "j-1"})).await;
        cancel(&server, json!({"paymentId": "kit:result/ORDER_NOT_EXIST"})).await;
        let (status, listed) = admin(&server, "GET", "/__kit/requests?id=j-1", Value::Null);
        assert_eq!(status, 200);
        assert_eq!(listed["requests"].as_array().unwrap().len(), 1);
        assert_eq!(listed["requests"][0]["ids"]["paymentId"], "j-1");
        let all = admin(&server, "GET", "/__kit/requests", Value::Null).1;
        assert_eq!(all["requests"].as_array().unwrap().len(), 2);
        assert_eq!(
            admin(&server, "DELETE", "/__kit/requests", Value::Null).1["cleared"],
            2
        );
        assert_eq!(
            admin(&server, "GET", "/__kit/requests", Value::Null).1["requests"],
            json!([])
        );
        let health = admin(&server, "GET", "/__kit/health", Value::Null).1;
        assert_eq!(
            health,
            json!({"status": "ok", "version": env!("CARGO_PKG_VERSION")})
        );

        let text = std::fs::read_to_string(&file).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        for line in &lines {
            let request: Value = serde_json::from_str(line["request"].as_str().unwrap()).unwrap();
            let response: Value = serde_json::from_str(line["response"].as_str().unwrap()).unwrap();
            assert!(Schema::Request.is_valid(&request), "{request}");
            assert!(Schema::Response.is_valid(&response), "{response}");
        }
        let output = std::process::Command::new(BIN)
            .arg("validate")
            .arg(&file)
            .output()
            .unwrap();
        assert_eq!(
            output.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&output.stdout)
        );
        let _ = std::fs::remove_dir_all(dir);
    });
}

/// `health` says whether a standing serve is up, for places with no curl.
#[test]
fn health_probes_a_standing_serve() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        let url = server.url().to_owned();
        let probed =
            tokio::task::spawn_blocking(move || serve::health::probe(&url, Duration::from_secs(5)))
                .await
                .unwrap();
        assert!(probed.unwrap().contains("\"ok\""));
    });
    let url = format!("http://{}", closed_port());
    let output = std::process::Command::new(BIN)
        .args(["health", &url, "--timeout-ms", "500"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains(&url));
    let https = serve::health::probe("https://localhost:1", Duration::from_millis(100));
    assert!(
        matches!(https, Err(serve::health::HealthError::Url(_))),
        "{https:?}"
    );
}

/// Every line of `--journal` is valid against `schema/serve-journal.schema.json`, and the
/// schema documents exactly the `source` kinds serve writes.
#[test]
fn every_journal_line_and_source_kind_is_in_the_journal_schema() {
    runtime().block_on(async {
        let (server, dir, file) = serve_with_journal().await;
        cancel(&server, json!({"paymentId": "s-1"})).await; // ordinary
        cancel(&server, json!({"paymentId": "s-1"})).await; // ordinary, repeated
        cancel(&server, json!({"paymentId": "kit:result/PROCESS_FAIL"})).await; // magic
        cancel(&server, json!({"paymentId": "kit:no/such"})).await; // unservable
        let (status, _) = admin(
            &server,
            "POST",
            "/__kit/arm",
            json!({"scenario": "result/ORDER_NOT_EXIST"}),
        );
        assert_eq!(status, 200);
        cancel(&server, json!({"paymentId": "s-2"})).await; // armed
        let body = br#"{"paymentId":"s-3"}"#;
        http(
            &server,
            "POST",
            PATH,
            &[("client-id", "TEST_5YBZ1".to_owned())],
            body,
        ); // refused

        let text = std::fs::read_to_string(&file).unwrap();
        let mut kinds = std::collections::BTreeSet::new();
        for (n, line) in text.lines().enumerate() {
            let line: Value = serde_json::from_str(line).unwrap();
            let violations = Schema::ServeJournal.violations(&line);
            assert!(
                violations.is_empty(),
                "line {}: {violations:?}\n{line}",
                n + 1
            );
            kinds.insert(line["source"]["kind"].as_str().unwrap().to_owned());
        }
        let documented: std::collections::BTreeSet<String> = Schema::ServeJournal.value()
            ["properties"]["source"]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|kind| {
                kind["properties"]["kind"]["const"]
                    .as_str()
                    .unwrap()
                    .to_owned()
            })
            .collect();
        assert_eq!(kinds, documented);
        let mut broken: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
        broken["source"] = json!({"kind": "guessed"});
        assert!(!Schema::ServeJournal.is_valid(&broken));
        let _ = std::fs::remove_dir_all(dir);
    });
}

/// Hundreds of idle connections and hostile bytes do not stall or crash the gateway.
#[test]
fn abuse_gets_an_answer_or_a_closed_connection_and_never_stalls_others() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        let addr = server.url().trim_start_matches("http://").to_owned();
        let idle: Vec<TcpStream> = (0..300).map(|_| TcpStream::connect(&addr).unwrap()).collect();
        let mut dribbling = TcpStream::connect(&addr).unwrap();
        dribbling.write_all(b"POST /ams/api/v1/pay").unwrap();
        let outcome = cancel(&server, json!({"paymentId": "after-idle"})).await;
        assert_eq!(outcome.outcome, OutcomeKind::Success, "served past 300 idle connections");

        let hostile: Vec<Vec<u8>> = vec![
            (0..4096u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8).collect(),
            b"GET / HTTP/1.1\r\nx: ".iter().copied().chain(std::iter::repeat_n(b'a', 100_000)).collect(),
            b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\ncontent-length: 99999999999\r\n\r\n{}".to_vec(),
            b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\nzz\r\n".to_vec(),
            b"\r\n\r\n".to_vec(),
        ];
        for bytes in hostile {
            let mut stream = TcpStream::connect(&addr).unwrap();
            stream.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
            let _ = stream.write_all(&bytes);
            let _ = stream.shutdown(std::net::Shutdown::Write);
            let mut answer = Vec::new();
            let _ = stream.read_to_end(&mut answer);
        }
        let again = cancel(&server, json!({"paymentId": "after-abuse"})).await;
        assert_eq!(again.outcome, OutcomeKind::Success, "still serving");
        drop(idle);
    });
}

/// A body over 1 MiB gets HTTP 413 before it is read, and fails request check 8, as in `run`.
#[test]
fn a_body_over_1_mib_gets_413_and_fails_the_body_size_check() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        let big = vec![b'x'; 2 << 20];
        let (status, headers, _) = http(&server, "POST", PATH, &[], &big);
        assert_eq!(status, 413);
        assert_eq!(header(&headers, "connection"), Some("close"));
        let addr = server.url().trim_start_matches("http://").to_owned();
        let mut stream = TcpStream::connect(&addr).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut chunked =
            format!("POST {PATH} HTTP/1.1\r\ntransfer-encoding: chunked\r\n\r\n").into_bytes();
        for _ in 0..3 {
            chunked.extend_from_slice(format!("{:x}\r\n", 512 * 1024).as_bytes());
            chunked.extend(std::iter::repeat_n(b'y', 512 * 1024));
            chunked.extend_from_slice(b"\r\n");
        }
        let _ = stream.write_all(&chunked);
        let mut answer = Vec::new();
        let _ = stream.read_to_end(&mut answer);
        assert!(
            answer.starts_with(b"HTTP/1.1 413"),
            "{}",
            String::from_utf8_lossy(&answer)
        );
        let journal = server.journal();
        assert_eq!(journal.len(), 2);
        for entry in &journal {
            assert_eq!(
                entry.checks[0].id,
                format!("request[{}].body-size", entry.request.seq)
            );
            assert!(entry.request.body.len() < (1 << 20) + 100, "kept cut");
        }
        assert_eq!(server.exit_code(), alipay_cancel_kit::exit::Exit::Failures);
    });
}

#[test]
fn tls_serves_with_a_run_ca_the_ready_line_carries() {
    runtime().block_on(async {
        let config = ServeConfig {
            tls: serve::TlsSetting::RunCa,
            ..ServeConfig::loopback()
        };
        let server = Server::start(config).await.unwrap();
        assert!(
            server.url().starts_with("https://localhost:"),
            "{}",
            server.url()
        );
        assert!(server
            .ready()
            .ca_certificate_pem
            .as_deref()
            .unwrap()
            .contains("BEGIN CERTIFICATE"));
        let outcome = cancel(&server, json!({"paymentId": "tls-1"})).await;
        assert_eq!(outcome.outcome, OutcomeKind::Success, "{outcome:?}");
        // A --tls session's reports say so, as a `run --tls` report does.
        assert_eq!(server.report().transport.as_str(), "tls");
    });
    runtime().block_on(async {
        let plain = Server::start(ServeConfig::loopback()).await.unwrap();
        assert_eq!(plain.report().transport.as_str(), "http");
    });
}

/// The command line: the ready line first, `--exec` gates a command, and a stopped session
/// writes its reports and exits 1 on a broken MUST check.
#[test]
fn serve_exec_gates_a_command_and_reports() {
    let dir = fresh_dir("serve");
    let report = dir.join("report.json");
    let junit = dir.join("junit.xml");
    let ready = dir.join("ready.json");
    // The command sends one unsigned request (a MUST violation), then succeeds.
    let command = r#"python3 -c "
import os, urllib.request, json
assert json.loads(os.environ['ALIPAY_KIT_READY'])['url'] == os.environ['ALIPAY_KIT_URL']
assert os.environ['ALIPAY_KIT_MERCHANT_PRIVATE_KEY']
req = urllib.request.Request(os.environ['ALIPAY_KIT_URL'] + '/ams/api/v1/payments/cancel', data=b'{\"paymentId\":\"e-1\"}', method='POST', headers={'Content-Type': 'application/json', 'Client-Id': os.environ['ALIPAY_KIT_CLIENT_ID']})
print(urllib.request.urlopen(req).read().decode())
""#;
    let output = std::process::Command::new(BIN)
        .args(["serve", "--port", "0", "--exec", command])
        .arg("--report-json")
        .arg(&report)
        .arg("--junit")
        .arg(&junit)
        .arg("--ready-file")
        .arg(&ready)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(1),
        "a MUST violation fails the gate: {stdout}\n{stderr}"
    );
    assert!(
        !stdout.contains("merchantPrivateKey") && !stdout.contains("\"url\""),
        "with --exec the ready line stays off the command's output: {stdout}"
    );
    assert!(
        stdout.contains("INVALID_SIGNATURE"),
        "the command saw the refusal: {stdout}"
    );
    let ready: Value = serde_json::from_str(&std::fs::read_to_string(&ready).unwrap()).unwrap();
    assert!(ready["url"]
        .as_str()
        .unwrap()
        .starts_with("http://127.0.0.1:"));
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert!(Schema::Report.is_valid(&report));
    assert_eq!(report["summary"]["FAIL"], 1);
    assert!(std::fs::read_to_string(&junit)
        .unwrap()
        .contains("<failure"));

    let failing = std::process::Command::new(BIN)
        .args(["serve", "--port", "0", "--exec", "exit 3"])
        .output()
        .unwrap();
    assert_eq!(
        failing.status.code(),
        Some(3),
        "the command's failure is the exit code"
    );
    let said = String::from_utf8_lossy(&failing.stderr);
    assert!(
        said.contains("serve: stopped (the command exited 3)"),
        "the stop line says how the command ended: {said}"
    );
    let clean = std::process::Command::new(BIN)
        .args(["serve", "--port", "0", "--exec", "true"])
        .output()
        .unwrap();
    assert_eq!(clean.status.code(), Some(0));
    let _ = std::fs::remove_dir_all(dir);
}

/// A standing `serve` process, killed when the test ends, passed or failed.
struct Standing(std::process::Child);

impl Drop for Standing {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn sigterm_stops_serve_with_its_reports_and_a_busy_port_is_a_clear_error() {
    use std::io::BufRead;
    let dir = fresh_dir("serve");
    let report = dir.join("report.json");
    let mut child = Standing(
        std::process::Command::new(BIN)
            .args(["serve", "--port", "0", "--report-json"])
            .arg(&report)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap();
    let url = ready["url"].as_str().unwrap().to_owned();
    let port = url.rsplit(':').next().unwrap().to_owned();
    let busy = std::process::Command::new(BIN)
        .args(["serve", "--port", &port])
        .output()
        .unwrap();
    assert_eq!(busy.status.code(), Some(2));
    let error = String::from_utf8_lossy(&busy.stderr);
    assert!(
        error.contains(&format!("127.0.0.1:{port}")) && error.contains("in use"),
        "{error}"
    );

    let addr = url.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    let body = br#"{"paymentId":"s-1"}"#;
    let mut head = format!(
        "POST {PATH} HTTP/1.1\r\nconnection: close\r\ncontent-length: {}\r\n",
        body.len()
    );
    for (name, value) in signed("TEST_5YBZ1", body) {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    stream.write_all(format!("{head}\r\n").as_bytes()).unwrap();
    stream.write_all(body).unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.contains("SUCCESS"), "{answer}");

    #[allow(unsafe_code)]
    // SAFETY: kill(2) on the child we spawned; no memory effects here.
    unsafe {
        libc::kill(child.0.id() as i32, libc::SIGTERM);
    }
    let status = child.0.wait().unwrap();
    assert_eq!(status.code(), Some(0), "no request broke a MUST check");
    let report: Value = serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(report["summary"]["PASS"], 1);
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn keys_from_a_directory_and_the_committed_test_keys_agree() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("conformance/keys");
    let keys = serve::keys::keys_from_dir(&dir).unwrap();
    assert_eq!(keys.merchant, TestKeys::fixed().merchant);
    let missing = serve::keys::keys_from_dir(std::path::Path::new("/nonexistent")).unwrap_err();
    let missing = missing.to_string();
    assert!(missing.contains("merchant-private.pkcs8.b64"), "{missing}");
    let ready = alipay_cancel_kit::standing::Ready {
        merchant_private_key: Some("k".into()),
        ..alipay_cancel_kit::standing::Ready::new("u")
    };
    let env = ready.environment();
    assert!(env.contains(&("ALIPAY_KIT_MERCHANT_PRIVATE_KEY".into(), "k".into())));
}

/// A bare LF inside a header, and every ambiguous framing of RFC 9112 section 6.3, get 400,
/// are journaled with the `framing` check, and nothing of them reaches an answer header.
#[test]
fn cr_or_lf_in_a_header_and_ambiguous_framing_get_400_and_are_journaled() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        let cases: [&[u8]; 4] = [
            b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\nClient-Id: A\nSet-Cookie: pwned=1\r\ncontent-length: 2\r\n\r\n{}",
            b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\ncontent-length: -1\r\n\r\n{}",
            b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\ncontent-length: 2\r\ncontent-length: 40\r\n\r\n{}",
            b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n0\r\n\r\n",
        ];
        for bytes in cases {
            let answer = raw(&server, bytes);
            assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
            let head = answer.split("\r\n\r\n").next().unwrap().to_ascii_lowercase();
            assert!(!head.contains("set-cookie"), "{head}");
            assert!(head.contains("x-kit-error: header") || head.contains("x-kit-error: content-length") || head.contains("x-kit-error: both"), "{head}");
        }
        let journal = server.journal();
        assert_eq!(journal.len(), 4);
        for entry in &journal {
            assert_eq!(entry.answer.status, 400);
            assert_eq!(entry.checks[0].id, format!("request[{}].framing", entry.request.seq));
            assert_eq!(entry.checks[0].level, Level::Must);
        }
        assert!(journal[1].checks[0].message.contains("`-1` is not a decimal length"));
        assert!(journal[2].checks[0].message.contains("given twice"));
        assert!(journal[3].checks[0].message.contains("both Transfer-Encoding and Content-Length"));
        assert_eq!(server.exit_code(), alipay_cancel_kit::exit::Exit::Failures);
        let after = cancel(&server, json!({"paymentId": "after-400"})).await;
        assert_eq!(after.outcome, OutcomeKind::Success);
    });
}

/// Whatever a request carries, its journal entry (and its report case) stays within a few
/// KiB, cut where it says so.
#[test]
fn a_journal_entry_stays_within_a_few_kib_whatever_the_request() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        let id = "i".repeat(300_000);
        let body = json!({"paymentId": id, "paymentRequestId": id}).to_string();
        let long = "v".repeat(10_000);
        let headers = vec![
            ("content-type", "application/json".to_owned()),
            ("client-id", long.clone()),
            ("request-time", long.clone()),
            (
                "signature",
                format!("algorithm=RSA256,keyVersion=1,signature={long}"),
            ),
        ];
        let (status, _, _) = http(&server, "POST", PATH, &headers, body.as_bytes());
        assert_eq!(status, 200, "refused as the real gateway would, with an F");
        let entry = server.journal().pop().unwrap();
        let kept = serde_json::to_string(&entry).unwrap();
        assert!(kept.len() < 16 * 1024, "{} bytes kept", kept.len());
        assert!(entry
            .request
            .body
            .ends_with(&format!("... ({} bytes in all)", body.len())));
        assert!(entry
            .request
            .ids
            .payment_id
            .unwrap()
            .ends_with("(300000 bytes in all)"));
        assert!(entry
            .request
            .headers
            .iter()
            .any(|(_, v)| v.ends_with("(10000 bytes in all)")));
        assert!(!entry.checks.is_empty());
        let report = serde_json::to_string(&server.report()).unwrap();
        assert!(
            report.len() < 16 * 1024,
            "the report case: {} bytes",
            report.len()
        );
    });
}

/// `times` is a count: one arm holds its answers once, and the armed bytes are bounded.
#[test]
fn arm_holds_its_answers_once_whatever_times_and_bounds_the_bytes() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        let big = "b".repeat(900_000);
        let arm = json!({"answers": [{"status": 503, "rawBody": big}], "times": 1000, "id": "nobody"});
        for _ in 0..4 {
            let (status, armed) = admin(&server, "POST", "/__kit/arm", arm.clone());
            assert_eq!(status, 200, "{armed}");
        }
        let (status, refused) = admin(&server, "POST", "/__kit/arm", arm.clone());
        assert_eq!(status, 400);
        assert!(refused["error"].as_str().unwrap().contains("at most 4194304 bytes"), "{refused}");
        admin(&server, "DELETE", "/__kit/requests", Value::Null);
        assert_eq!(admin(&server, "POST", "/__kit/arm", arm).0, 200, "cleared, room again");

        let in_turn = json!({"answers": [{"status": 503, "rawBody": "a"}, {"status": 429, "rawBody": "b"}], "times": 2, "id": "turns"});
        assert_eq!(admin(&server, "POST", "/__kit/arm", in_turn).1["answers"], 4);
        let mut statuses = Vec::new();
        for _ in 0..5 {
            let body = br#"{"paymentId":"turns"}"#;
            statuses.push(http(&server, "POST", PATH, &signed("TEST_5YBZ1", body), body).0);
        }
        assert_eq!(statuses, [503, 429, 503, 429, 200]);
    });
}

#[test]
fn armed_statuses_and_delays_out_of_bounds_are_refused_naming_the_field() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        for (answer, field) in [
            (
                json!({"status": 0}),
                "answers[0].status: expected 100 to 599, found 0",
            ),
            (
                json!({"status": 600}),
                "answers[0].status: expected 100 to 599, found 600",
            ),
            (
                json!({"status": 200, "delayMs": 60_001}),
                "answers[0].delayMs: expected at most 60000, found 60001",
            ),
        ] {
            let (status, error) =
                admin(&server, "POST", "/__kit/arm", json!({"answers": [answer]}));
            assert_eq!(status, 400);
            assert!(error["error"].as_str().unwrap().contains(field), "{error}");
        }
    });
}

/// A web page cannot reach `/__kit/` (a foreign `Host`, a form post), and with a token nobody
/// without it can; health stays open.
#[test]
fn kit_endpoints_refuse_foreign_hosts_form_posts_and_callers_without_the_token() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig::loopback()).await.unwrap();
        let port = server.url().rsplit(':').next().unwrap().to_owned();
        let ask = |host: &str, extra: &str, body: &str| {
            raw(&server, format!("POST /__kit/shutdown HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n{extra}content-length: {}\r\n\r\n{body}", body.len()).as_bytes())
        };
        let rebound = ask(&format!("evil.example:{port}"), "content-type: application/json\r\n", "{}");
        assert!(rebound.starts_with("HTTP/1.1 403"), "{rebound}");
        assert!(rebound.contains("evil.example"), "{rebound}");
        let other_port = ask("127.0.0.1:1", "content-type: application/json\r\n", "{}");
        assert!(other_port.starts_with("HTTP/1.1 403"), "{other_port}");
        let form = ask(&format!("localhost:{port}"), "content-type: application/x-www-form-urlencoded\r\n", "a=b");
        assert!(form.starts_with("HTTP/1.1 415"), "{form}");
        let health = raw(&server, b"GET /__kit/health HTTP/1.1\r\nhost: evil.example\r\nconnection: close\r\n\r\n");
        assert!(health.starts_with("HTTP/1.1 200"), "{health}");

        let guarded = Server::start(ServeConfig { admin_token: Some("s3cret".into()), ..ServeConfig::loopback() }).await.unwrap();
        let list = |extra: &str| raw(&guarded, format!("GET /__kit/requests HTTP/1.1\r\nhost: kit.internal\r\nconnection: close\r\n{extra}\r\n").as_bytes());
        assert!(list("").starts_with("HTTP/1.1 401"));
        assert!(list("authorization: Bearer wrong\r\n").starts_with("HTTP/1.1 401"));
        assert!(list("authorization: Bearer s3cret\r\n").starts_with("HTTP/1.1 200"));
        assert!(list("x-kit-admin-token: s3cret\r\n").starts_with("HTTP/1.1 200"));
    });
}

/// Idle connections cannot lock clients out: when every slot is taken, the idle ones make
/// room; a head that never ends is closed.
#[test]
fn idle_connections_make_room_and_a_head_that_never_ends_is_closed() {
    runtime().block_on(async {
        let server = Server::start(ServeConfig {
            connections: 16,
            ..ServeConfig::loopback()
        })
        .await
        .unwrap();
        let addr = server.url().trim_start_matches("http://").to_owned();
        let idle: Vec<TcpStream> = (0..40)
            .map(|_| TcpStream::connect(&addr).unwrap())
            .collect();
        let outcome = cancel(&server, json!({"paymentId": "past-idle"})).await;
        assert_eq!(outcome.outcome, OutcomeKind::Success, "{outcome:?}");
        drop(idle);

        let mut slow = TcpStream::connect(&addr).unwrap();
        slow.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        slow.write_all(b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\nx-slow: ")
            .unwrap();
        let mut rest = Vec::new();
        let read = slow.read_to_end(&mut rest);
        assert!(
            matches!(read, Ok(0)),
            "closed by the server, not by the test's timeout: {read:?}"
        );
    });
}

/// `--keys` with the user's own key: the private key stays out of the ready line unless asked
/// for; a ready file that holds one is the owner's only.
#[test]
fn the_users_own_private_key_is_not_handed_out_and_a_ready_file_with_a_key_is_0600() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = fresh_dir("serve");
    let keys = dir.join("keys");
    std::fs::create_dir_all(&keys).unwrap();
    for name in ["merchant-private.pkcs8.b64", "vendor-private.pkcs8.b64"] {
        std::fs::write(
            keys.join(name),
            signature::SigningKey::generate().to_base64_pkcs8(),
        )
        .unwrap();
    }
    let ready_of = |extra: &[&str], file: &std::path::Path| {
        let out = std::process::Command::new(BIN)
            .args(["serve", "--port", "0", "--exec", "true", "--ready-file"])
            .arg(file)
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stdout.is_empty(),
            "{}",
            String::from_utf8_lossy(&out.stdout)
        );
        let mode = std::fs::metadata(file).unwrap().permissions().mode() & 0o777;
        (
            serde_json::from_str::<Value>(&std::fs::read_to_string(file).unwrap()).unwrap(),
            mode,
        )
    };
    let keys_arg = keys.to_str().unwrap();
    let (own, mode) = ready_of(&["--keys", keys_arg], &dir.join("own.json"));
    assert!(own.get("merchantPrivateKey").is_none(), "{own}");
    assert!(own["merchantPublicKey"].is_string());
    assert_eq!(mode, 0o644);
    let (exposed, mode) = ready_of(
        &["--keys", keys_arg, "--expose-private-key"],
        &dir.join("exposed.json"),
    );
    assert!(exposed["merchantPrivateKey"].is_string());
    assert_eq!(mode, 0o600);
    let (test_only, mode) = ready_of(&[], &dir.join("test-only.json"));
    assert_eq!(
        test_only["merchantPrivateKey"],
        TestKeys::fixed().merchant.to_base64_pkcs8()
    );
    assert_eq!(mode, 0o600);
    let _ = std::fs::remove_dir_all(dir);
}

/// `--exec` hands the command the kit's own path, the run CA in a private directory, and a
/// NODE_EXTRA_CA_CERTS bundle that keeps the one the environment had.
#[test]
fn exec_hands_the_command_the_kit_a_private_ca_file_and_node_extra_ca_certs() {
    let dir = fresh_dir("serve");
    let theirs = dir.join("theirs.pem");
    std::fs::write(
        &theirs,
        "-----BEGIN CERTIFICATE-----\nTHEIRS\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let seen = dir.join("seen");
    let command = format!(
        "\"$ALIPAY_KIT_BIN\" scenarios --magic > /dev/null && stat -c %a \"$(dirname \"$ALIPAY_KIT_CA_FILE\")\" > '{seen}' && stat -c %a \"$ALIPAY_KIT_CA_FILE\" >> '{seen}' && cat \"$NODE_EXTRA_CA_CERTS\" >> '{seen}' && echo \"$ALIPAY_KIT_BIN\" >> '{seen}' && echo \"$ALIPAY_KIT_CA_FILE\" >> '{seen}'",
        seen = seen.display()
    );
    let out = std::process::Command::new(BIN)
        .args(["serve", "--tls", "--port", "0", "--exec", &command])
        .env("NODE_EXTRA_CA_CERTS", &theirs)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.stdout.is_empty(),
        "no ready line on the command's stdout"
    );
    let seen = std::fs::read_to_string(&seen).unwrap();
    let lines: Vec<&str> = seen.lines().collect();
    assert_eq!(&lines[..2], ["700", "600"], "{seen}");
    assert!(
        seen.contains("THEIRS"),
        "the bundle keeps the one given: {seen}"
    );
    assert_eq!(
        seen.matches("BEGIN CERTIFICATE").count(),
        2,
        "and adds the run CA: {seen}"
    );
    let bin = std::fs::canonicalize(BIN).unwrap();
    assert!(lines.contains(&bin.to_str().unwrap()), "{seen}");
    let ca_file = lines.last().unwrap();
    assert!(
        !std::path::Path::new(ca_file).exists(),
        "the private directory goes with the session"
    );
    let _ = std::fs::remove_dir_all(dir);
}

/// Off loopback, `/__kit/` needs a token or an explicit `--insecure-admin`.
#[test]
fn a_host_off_loopback_needs_an_admin_token_or_insecure_admin() {
    let out = std::process::Command::new(BIN)
        .args(["serve", "--host", "0.0.0.0", "--port", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: --host 0.0.0.0")
            && err.contains("--admin-token TOKEN")
            && err.contains("--insecure-admin"),
        "{err}"
    );
}

/// A full descriptor table does not end the TLS listener: it backs off, idle connections
/// make room, and a normal request is served while the flood is still held open.
#[test]
fn the_tls_listener_survives_a_full_descriptor_table() {
    use std::io::BufRead;
    let mut child = Standing(
        std::process::Command::new("prlimit")
            .args(["--nofile=64:64", "--"])
            .arg(BIN)
            .args(["serve", "--tls", "--port", "0"])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let mut line = String::new();
    std::io::BufReader::new(child.0.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ready: Value = serde_json::from_str(&line).unwrap();
    let port = ready["url"]
        .as_str()
        .unwrap()
        .rsplit(':')
        .next()
        .unwrap()
        .to_owned();
    let flood: Vec<TcpStream> = (0..150)
        .filter_map(|_| TcpStream::connect(format!("127.0.0.1:{port}")).ok())
        .collect();
    assert!(flood.len() > 64, "more connections than descriptors");
    std::thread::sleep(Duration::from_millis(500));
    runtime().block_on(async {
        let gateway: GatewayInfo = serde_json::from_value(ready.clone()).unwrap();
        let Value::Object(request) = json!({"paymentId": "past-the-flood"}) else {
            unreachable!()
        };
        let instruction = Instruction {
            protocol: PROTOCOL.into(),
            scenario: "serve".into(),
            gateway,
            request,
            timeout_ms: 15_000,
        };
        let outcome = reference_client::cancel(&instruction, &Behaviour::default())
            .await
            .unwrap();
        assert_eq!(outcome.outcome, OutcomeKind::Success, "{outcome:?}");
    });
    drop(flood);
    assert!(child.0.try_wait().unwrap().is_none(), "still up");
}
