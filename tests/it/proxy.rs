//! `proxy`: in front of `serve`, every class of answer classified as the contract says, nothing
//! altered in transit, and recorded exchanges that replay.

use super::common::{closed_port, runtime, scratch_dir, BIN};
use std::io::{Read, Write};
use std::time::Duration;

use alipay_cancel_kit::contract::AnswerClass;
use alipay_cancel_kit::protocol::{GatewayInfo, Instruction, OutcomeKind, PROTOCOL};
use alipay_cancel_kit::proxy::{Proxy, ProxyConfig, Upstream};
use alipay_cancel_kit::reference_client::{self, Behaviour};
use alipay_cancel_kit::serve::{ServeConfig, Server, Session};
use alipay_cancel_kit::signature::{self, TestKeys};
use alipay_cancel_kit::verdict::Level;
use serde_json::{json, Value};

const PATH: &str = "/ams/api/v1/payments/cancel";

fn config(upstream: &Server, with_keys: bool, record: Option<std::path::PathBuf>) -> ProxyConfig {
    let keys = TestKeys::fixed();
    ProxyConfig {
        merchant_public: with_keys.then(|| keys.merchant.verifying_key()),
        alipay_public: with_keys.then(|| keys.vendor.verifying_key()),
        record_dir: record,
        ..ProxyConfig::loopback(
            Upstream::new(upstream.url(), None, Duration::from_secs(10)).unwrap(),
        )
    }
}

/// A proxy in front of `upstream` (a URL), giving up after `timeout`.
async fn proxy_to(upstream: &str, timeout: Duration) -> Proxy {
    Proxy::start(ProxyConfig::loopback(
        Upstream::new(upstream, None, timeout).unwrap(),
    ))
    .await
    .unwrap()
}

/// An upstream on a loopback port that reads each request's head, then plays `answer` on the
/// connection (written from a blocking thread, so endless answers are easy to write).
fn fake_upstream(answer: fn(&mut std::net::TcpStream)) -> String {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for mut stream in listener.incoming().flatten() {
            std::thread::spawn(move || {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && stream.read(&mut byte).is_ok_and(|n| n == 1) {
                    head.push(byte[0]);
                }
                answer(&mut stream);
                // Read what is left (the request body) before closing: unread bytes would make
                // the close a reset, which could overtake the answer.
                let _ = stream.shutdown(std::net::Shutdown::Write);
                let _ = std::io::copy(&mut stream, &mut std::io::sink());
            });
        }
    });
    url
}

/// The reference client cancels `id` (as paymentId) through the proxy, with serve's keys.
async fn cancel_through(proxy: &Proxy, upstream: &Server, id: &str) -> OutcomeKind {
    let mut gateway: GatewayInfo =
        serde_json::from_value(serde_json::to_value(upstream.ready()).unwrap()).unwrap();
    gateway.url = proxy.url().to_owned();
    let Value::Object(request) = json!({"paymentId": id}) else {
        unreachable!()
    };
    let instruction = Instruction {
        protocol: PROTOCOL.into(),
        scenario: "proxy".into(),
        gateway,
        request,
        timeout_ms: 1000,
    };
    reference_client::cancel(&instruction, &Behaviour::default())
        .await
        .unwrap()
        .outcome
}

#[test]
fn every_class_of_answer_is_classified_as_the_contract_says() {
    runtime().block_on(async {
        let upstream = Server::start(ServeConfig::loopback()).await.unwrap();
        let proxy = Proxy::start(config(&upstream, true, None)).await.unwrap();
        let cases = [
            ("result/SUCCESS", AnswerClass::SignedSuccess),
            ("result/ORDER_NOT_EXIST", AnswerClass::SignedFailure),
            ("result/UNKNOWN_EXCEPTION", AnswerClass::SignedUnknown),
            ("signature/unsigned-failure", AnswerClass::UnsignedFailure),
            ("signature/unsigned-unknown", AnswerClass::UnsignedUnknown),
            ("signature/missing-on-success", AnswerClass::UnsignedSuccess),
            (
                "signature/missing-response-time",
                AnswerClass::SignatureHalfMissing,
            ),
            ("signature/tampered-success", AnswerClass::SignatureInvalid),
            ("signature/wrong-key-success", AnswerClass::SignatureInvalid),
            ("signature/empty-on-success", AnswerClass::SignatureInvalid),
            ("signature/foreign-client-id", AnswerClass::ForeignClientId),
            ("fault/http-500", AnswerClass::NoUsableAnswer),
            ("fault/not-json", AnswerClass::NoUsableAnswer),
            ("fault/missing-result", AnswerClass::NoUsableAnswer),
            ("fault/connection-closed", AnswerClass::NoUsableAnswer),
        ];
        for (n, (scenario, class)) in cases.into_iter().enumerate() {
            let id = format!("kit:{scenario}:{n}");
            let outcome = cancel_through(&proxy, &upstream, &id).await;
            let journal = proxy.journal();
            let exchanges: Vec<_> = journal
                .iter()
                .filter(|e| e.request.body.contains(&id))
                .collect();
            let last = exchanges
                .last()
                .unwrap_or_else(|| panic!("{scenario}: nothing journaled"));
            assert_eq!(
                last.classified.class, class,
                "{scenario}: {}",
                last.classified.why
            );
            assert!(
                last.classified.accepts.contains(&outcome),
                "{scenario}: the reference client surfaced {outcome:?}, the class accepts {:?}",
                last.classified.accepts
            );
            let class_check = last
                .passed
                .iter()
                .any(|(id, level)| id.ends_with(".class") && *level == Level::Info);
            assert!(class_check, "{scenario}: the class is reported as a check");
        }
        // A broken signature is the gateway's fault: a MUST violation of the answer.
        let journal = proxy.journal();
        let tampered = journal
            .iter()
            .find(|e| e.request.body.contains("tampered-success"))
            .unwrap();
        assert!(tampered
            .checks
            .iter()
            .any(|c| c.id.ends_with(".signature") && c.level == Level::Must));
        assert_eq!(proxy.exit_code(), alipay_cancel_kit::exit::Exit::Failures);
        let unsigned_f = journal
            .iter()
            .find(|e| e.request.body.contains("unsigned-failure"))
            .unwrap();
        assert!(
            unsigned_f.checks.is_empty(),
            "an unsigned F is allowed: {:?}",
            unsigned_f.checks
        );
    });
}

/// One raw exchange on a fresh connection: the answer's head and body.
fn raw_exchange(url: &str, request: &[u8]) -> (String, Vec<u8>) {
    let raw = crate::common::raw_exchange(url, request, Duration::from_secs(10));
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    (
        String::from_utf8_lossy(&raw[..split]).into_owned(),
        raw[split + 4..].to_vec(),
    )
}

#[test]
fn nothing_is_altered_in_transit() {
    runtime().block_on(async {
        let upstream = Server::start(ServeConfig::loopback()).await.unwrap();
        let proxy = Proxy::start(config(&upstream, true, None)).await.unwrap();
        // Indented by 3 as the Python SDK sends it: the bytes must arrive as they are.
        let body = b"{\n   \"paymentRequestId\": \"bytes-1\"\n}";
        let keys = TestKeys::fixed();
        let time = "2026-12-01T10:00:00+00:00";
        let sig = signature::sign(&keys.merchant, PATH, "TEST_5YBZ1", time, body);
        let head = format!(
            "POST http://example.test{PATH} HTTP/1.1\r\nHost: example.test\r\nContent-Type: application/json; charset=UTF-8\r\nClient-Id: TEST_5YBZ1\r\nRequest-Time: {time}\r\nSignature: {}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            signature::header_value("1", &sig),
            body.len()
        );
        let (answer_head, answer_body) = raw_exchange(proxy.url(), &[head.as_bytes(), body].concat());
        let served = upstream.journal().pop().unwrap();
        assert_eq!(served.request.body.as_bytes(), body, "the request body arrived byte for byte");
        assert!(!served.checks.iter().any(|c| !c.held && c.level == Level::Must), "{:?}", served.checks);
        assert_eq!(answer_body, served.answer.body.as_bytes(), "the answer body came back byte for byte");
        for (name, value) in &served.answer.headers {
            assert!(
                answer_head.to_ascii_lowercase().contains(&format!("{name}: {value}").to_ascii_lowercase()),
                "{name} came back unchanged: {answer_head}"
            );
        }
        let through = proxy.journal().pop().unwrap();
        assert_eq!(through.classified.class, AnswerClass::SignedSuccess);
    });
}

#[test]
fn without_keys_the_signature_checks_are_not_run_never_passed() {
    runtime().block_on(async {
        let upstream = Server::start(ServeConfig::loopback()).await.unwrap();
        let proxy = Proxy::start(config(&upstream, false, None)).await.unwrap();
        assert_eq!(
            cancel_through(&proxy, &upstream, "no-keys-1").await,
            OutcomeKind::Success
        );
        let exchange = proxy.journal().pop().unwrap();
        for direction in ["request[1].signature", "answer[1].signature"] {
            let check = exchange
                .checks
                .iter()
                .find(|c| c.id == direction)
                .unwrap_or_else(|| panic!("{direction} reported"));
            assert_eq!(check.level, Level::Info);
            assert!(
                !check.held && check.message.starts_with("not run"),
                "{check:?}"
            );
        }
        assert_eq!(exchange.classified.class, AnswerClass::SignatureNotChecked);
        assert_eq!(proxy.exit_code(), alipay_cancel_kit::exit::Exit::Ok);
    });
}

#[test]
fn recorded_exchanges_replay_through_run_catalogue() {
    // The proxy makes the directory it records into.
    let dir = scratch_dir("proxy", "record").join("recorded");
    runtime().block_on(async {
        let upstream = Server::start(ServeConfig::loopback()).await.unwrap();
        let proxy = Proxy::start(config(&upstream, true, Some(dir.clone())))
            .await
            .unwrap();
        for (n, scenario) in [
            "result/SUCCESS",
            "result/PROCESS_FAIL",
            "signature/tampered-success",
            "fault/http-502-empty",
            "signature/unsigned-failure",
        ]
        .iter()
        .enumerate()
        {
            cancel_through(&proxy, &upstream, &format!("kit:{scenario}:r{n}")).await;
        }
        assert_eq!(
            cancel_through(&proxy, &upstream, "plain-order-9").await,
            OutcomeKind::Success
        );
    });
    let files = std::fs::read_dir(&dir).unwrap().count();
    assert!(files >= 6, "one file per exchange: {files}");
    let output = std::process::Command::new(BIN)
        .args(["run", "--catalogue-only", "--catalogue"])
        .arg(&dir)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(&format!("{files} PASS")), "{stdout}");
    let broken = std::process::Command::new(BIN)
        .args(["run", "--catalogue-only", "--client"])
        .arg(format!(
            "{BIN} reference-adapter --defect no-response-verification"
        ))
        .arg("--catalogue")
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(
        broken.status.code(),
        Some(1),
        "a client that believes a tampered answer fails the replay: {}",
        String::from_utf8_lossy(&broken.stdout)
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_options_are_clear_errors_naming_what_is_wrong() {
    let kit = |args: &[&str]| {
        let out = std::process::Command::new(BIN)
            .arg("proxy")
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, err) = kit(&["--upstream", "ftp://example.test", "--port", "0"]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--upstream ftp://example.test") && err.contains("http://"),
        "{err}"
    );
    let (code, err) = kit(&[
        "--upstream",
        "http://127.0.0.1:9",
        "--merchant-public-key",
        "/nonexistent.pem",
    ]);
    assert_eq!(code, Some(2));
    assert!(
        err.contains("--merchant-public-key") && err.contains("/nonexistent.pem"),
        "{err}"
    );
    let dir = scratch_dir("proxy", "keys");
    let pkcs1 = dir.join("pkcs1.pem");
    std::fs::write(
        &pkcs1,
        "-----BEGIN RSA PUBLIC KEY-----\nMIIB\n-----END RSA PUBLIC KEY-----\n",
    )
    .unwrap();
    let (code, err) = kit(&[
        "--upstream",
        "http://127.0.0.1:9",
        "--alipay-public-key",
        pkcs1.to_str().unwrap(),
    ]);
    assert_eq!(code, Some(2));
    assert!(err.contains("PKCS#1") && err.contains("pkcs1.pem"), "{err}");
    // A PEM `PUBLIC KEY` and the bare base64 DER both read.
    let keys = TestKeys::fixed();
    let base64 = keys.vendor.verifying_key().to_base64_spki();
    let pem = dir.join("vendor.pem");
    let wrapped: Vec<String> = base64
        .as_bytes()
        .chunks(64)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect();
    std::fs::write(
        &pem,
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            wrapped.join("\n")
        ),
    )
    .unwrap();
    let read = alipay_cancel_kit::proxy::read_public_key(&pem).unwrap();
    assert_eq!(read.to_base64_spki(), base64);
    let _ = std::fs::remove_dir_all(dir);
}

/// An upstream that is down, breaks off, never answers or answers without end: the client gets
/// a 502 saying why, the proxy holds at most 1 MiB of it, and the journal says so.
#[test]
fn a_broken_upstream_gets_the_client_a_502_saying_why_and_holds_at_most_1_mib() {
    runtime().block_on(async {
        let down = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            format!("http://{}", listener.local_addr().unwrap())
        };
        let endless = fake_upstream(|stream| {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n");
            let chunk = [format!("{:x}\r\n", 64 * 1024).into_bytes(), vec![b'x'; 64 * 1024], b"\r\n".to_vec()].concat();
            while stream.write_all(&chunk).is_ok() {}
        });
        let silent = fake_upstream(|stream| {
            std::thread::sleep(Duration::from_secs(20));
            let _ = stream.write_all(b"");
        });
        let broken = fake_upstream(|stream| {
            let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{\"res");
        });
        for (upstream, why) in [
            (down, "connect to"),
            (endless, "larger than 1048576 bytes (1 MiB)"),
            (silent, "no answer from upstream within 1 s"),
            (broken, "cut short"),
        ] {
            let proxy = proxy_to(&upstream, Duration::from_secs(1)).await;
            let (head, body) = tokio::task::spawn_blocking({
                let url = proxy.url().to_owned();
                move || raw_exchange(&url, format!("POST {PATH} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{{}}").as_bytes())
            })
            .await
            .unwrap();
            assert!(head.starts_with("HTTP/1.1 502"), "{upstream}: {head}");
            let error = head.lines().find(|l| l.starts_with("x-kit-error: ")).unwrap_or_default();
            assert!(error.contains(why), "{why}: {head}");
            assert!(String::from_utf8_lossy(&body).contains(why));
            let exchange = proxy.journal().pop().unwrap();
            assert!(exchange.upstream_error.as_deref().unwrap().contains(why), "{exchange:?}");
            assert_eq!(exchange.status, 0, "judged as no answer");
            let failure = proxy.failure().expect("no exchange got an answer");
            assert!(failure.contains("none of the 1 requests got an answer") && failure.contains(why), "{failure}");
            assert_eq!(proxy.exit_code(), alipay_cancel_kit::exit::Exit::Failures);
        }
    });
}

/// An answer within 1 MiB is passed on whole; the journal keeps a few KiB of it, saying so.
#[test]
fn a_large_answer_passes_whole_and_the_journal_keeps_it_cut() {
    runtime().block_on(async {
        let large = fake_upstream(|stream| {
            let body = format!("{{\"pad\":\"{}\"}}", "p".repeat(600_000));
            let _ = stream.write_all(format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n{body}", body.len()).as_bytes());
        });
        let proxy = proxy_to(&large, Duration::from_secs(10)).await;
        let url = proxy.url().to_owned();
        let (head, body) = tokio::task::spawn_blocking(move || {
            raw_exchange(&url, format!("POST {PATH} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-length: 2\r\n\r\n{{}}").as_bytes())
        })
        .await
        .unwrap();
        assert!(head.starts_with("HTTP/1.1 200"), "{head}");
        assert_eq!(body.len(), 600_010);
        let exchange = proxy.journal().pop().unwrap();
        assert!(exchange.answer_body.ends_with("(600010 bytes in all)"), "cut, saying so");
        assert!(serde_json::to_string(&exchange).unwrap().len() < 16 * 1024);
        assert!(proxy.failure().is_none());
    });
}

/// On the command line: a session whose requests all went unanswered exits 1, saying why.
#[test]
fn a_session_with_no_answered_exchange_exits_1_saying_why() {
    let down = format!("http://{}", closed_port());
    let command = r#"python3 -c "
import os, urllib.request, urllib.error
try:
    urllib.request.urlopen(urllib.request.Request(os.environ['ALIPAY_KIT_URL'] + '/ams/api/v1/payments/cancel', data=b'{}', method='POST'))
except urllib.error.HTTPError as e:
    assert e.code == 502, e.code
    assert 'connect to' in e.headers['x-kit-error']
""#;
    let out = std::process::Command::new(BIN)
        .args([
            "proxy",
            "--upstream",
            &down,
            "--port",
            "0",
            "--exec",
            command,
        ])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("proxy: failed: none of the 1 requests got an answer from the upstream"),
        "{err}"
    );
}

/// `GET /__kit/requests` as `serve` answers it: each exchange names its ids, and `?id=ID`
/// keeps those naming ID, so a test finds its own exchanges in a proxy many tests share.
#[test]
fn the_journal_names_each_exchange_by_its_ids_and_filters_by_one() {
    runtime().block_on(async {
        let upstream = Server::start(ServeConfig::loopback()).await.unwrap();
        let proxy = Proxy::start(config(&upstream, true, None)).await.unwrap();
        for id in ["pj-1", "pj-2", "pj-1"] {
            assert_eq!(
                cancel_through(&proxy, &upstream, id).await,
                OutcomeKind::Success
            );
        }
        let url = proxy.url().to_owned();
        let host = url.trim_start_matches("http://").to_owned();
        let list = move |query: &str| {
            let request = format!(
                "GET /__kit/requests{query} HTTP/1.1\r\nhost: {host}\r\nconnection: close\r\n\r\n"
            );
            let (head, body) = raw_exchange(&url, request.as_bytes());
            assert!(head.starts_with("HTTP/1.1 200"), "{head}");
            serde_json::from_slice::<Value>(&body).expect("the journal is JSON")
        };
        let (all, one, none) =
            tokio::task::spawn_blocking(move || (list(""), list("?id=pj-1"), list("?id=pj")))
                .await
                .unwrap();
        let ids = |page: &Value| -> Vec<Value> {
            page["requests"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["ids"].clone())
                .collect()
        };
        assert_eq!(
            ids(&all),
            [
                json!({"paymentId": "pj-1"}),
                json!({"paymentId": "pj-2"}),
                json!({"paymentId": "pj-1"})
            ]
        );
        assert_eq!(ids(&one).len(), 2, "only the exchanges naming pj-1: {one}");
        assert_eq!(one["requests"][1]["seq"], 3);
        assert_eq!(
            ids(&none),
            Vec::<Value>::new(),
            "an id matches whole, not as a prefix"
        );
        for page in [&all, &one, &none] {
            assert_eq!(page["kept"], 3, "`kept` counts the whole journal");
            assert_eq!(page["totals"]["requests"], 3);
        }
        assert_eq!(
            proxy.journal()[1].request.ids.payment_id.as_deref(),
            Some("pj-2"),
            "the journal read back keeps the ids"
        );
    });
}
