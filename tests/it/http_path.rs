//! One HTTP path (issue 23): the same request bytes meet the same request checks whether `run`'s gateway,
//! `serve` or `proxy` (in front of a `serve`) receives them, as all three read HTTP/1.1
//! through the one reader, `gateway::http`.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use super::common::runtime;
use alipay_cancel_kit::contract::CheckId;
use alipay_cancel_kit::gateway::{Gateway, Script};
use alipay_cancel_kit::proxy::{Proxy, ProxyConfig, Upstream};
use alipay_cancel_kit::serve::{ServeConfig, Server, Session, TlsSetting};
use alipay_cancel_kit::signature::{self, TestKeys};
use alipay_cancel_kit::verdict::{Check, Level};

const PATH: &str = "/ams/api/v1/payments/cancel";
const CLIENT_ID: &str = "TEST_5YBZ1";

/// A request's checks as compared across commands: by report id, whether it held and, when
/// it failed, its message and what it saw.
type Checks = BTreeMap<String, (bool, Option<(String, Option<String>)>)>;

/// The request checks of one exchange, less check 7 (the ids against an instruction), which
/// only `run` has an instruction for.
fn request_checks(failed: &[Check], passed: &[(String, Level)]) -> Checks {
    let failed = failed.iter().map(|c| {
        let failure = (!c.held).then(|| (c.message.clone(), c.seen.clone()));
        (c.id.clone(), (c.held, failure))
    });
    let passed = passed.iter().map(|(id, _)| (id.clone(), (true, None)));
    failed
        .chain(passed)
        .filter(|(id, _)| id.starts_with("request["))
        .filter(|(id, _)| CheckId::from_report_id(id) != Some(CheckId::Ids))
        .collect()
}

/// A signed cancel request's head (less its framing) and body.
fn signed_head(content_type: &str) -> (String, Vec<u8>) {
    let keys = TestKeys::fixed();
    let body = br#"{"paymentId":"http-path-1"}"#.to_vec();
    let time = chrono::Utc::now().timestamp_millis().to_string();
    let sig = signature::sign(&keys.merchant, PATH, CLIENT_ID, &time, &body);
    let head = format!(
        "POST {PATH} HTTP/1.1\r\nhost: x\r\nconnection: close\r\ncontent-type: {content_type}\r\nclient-id: {CLIENT_ID}\r\nrequest-time: {time}\r\nsignature: {}\r\n",
        signature::header_value("1", &sig)
    );
    (head, body)
}

/// The requests every command is sent, by name: each one's bytes.
fn requests() -> Vec<(&'static str, Vec<u8>)> {
    let json = "application/json; charset=UTF-8";
    let length = |content_type: &str| {
        let (head, body) = signed_head(content_type);
        let head = format!("{head}content-length: {}\r\n\r\n", body.len());
        [head.into_bytes(), body].concat()
    };
    let chunked = {
        let (head, body) = signed_head(json);
        let (first, rest) = body.split_at(10);
        let chunks = format!(
            "{:x}\r\n{}\r\n{:x};ext=1\r\n{}\r\n0\r\n\r\n",
            first.len(),
            String::from_utf8_lossy(first),
            rest.len(),
            String::from_utf8_lossy(rest)
        );
        format!("{head}transfer-encoding: chunked\r\n\r\n{chunks}").into_bytes()
    };
    let ambiguous = {
        let (head, body) = signed_head(json);
        let head = format!(
            "{head}content-length: {}\r\ncontent-length: 9\r\n\r\n",
            body.len()
        );
        [head.into_bytes(), body].concat()
    };
    let injected = {
        let (head, body) = signed_head(json);
        let head = format!(
            "{head}x-note: a\nset-cookie: x=1\r\ncontent-length: {}\r\n\r\n",
            body.len()
        );
        [head.into_bytes(), body].concat()
    };
    let oversize = {
        let (head, _) = signed_head(json);
        let body = vec![b' '; (1 << 20) + 1];
        let head = format!("{head}content-length: {}\r\n\r\n", body.len());
        [head.into_bytes(), body].concat()
    };
    vec![
        ("signed", length(json)),
        ("bad content type", length("text/plain")),
        ("chunked", chunked),
        ("ambiguous framing", ambiguous),
        ("a bare LF inside a header", injected),
        ("oversize", oversize),
    ]
}

/// The request checks each request fails, by the contract: the point is that all three
/// commands agree, and that they agree on something.
fn expected_failures(name: &str) -> Vec<&'static str> {
    match name {
        "signed" | "chunked" => vec![],
        "bad content type" => vec!["request[N].charset", "request[N].content-type"],
        "ambiguous framing" | "a bare LF inside a header" => vec!["request[N].framing"],
        "oversize" => vec!["request[N].body-size"],
        _ => unreachable!("a request without expectations: {name}"),
    }
}

/// Sends `bytes` on a fresh connection and reads the answer to its end: its status.
fn send(addr: SocketAddr, bytes: Vec<u8>) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // Written from a thread of its own: an oversize body is refused before it is all read.
    let mut writer = stream.try_clone().unwrap();
    let writing = std::thread::spawn(move || {
        let _ = writer.write_all(&bytes);
    });
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let _ = writing.join();
    let status_line = String::from_utf8_lossy(&answer);
    let status = status_line.split(' ').nth(1).unwrap_or_default();
    status
        .parse()
        .unwrap_or_else(|_| panic!("no answer: {status_line}"))
}

fn addr_of(url: &str) -> SocketAddr {
    url.trim_start_matches("http://").parse().unwrap()
}

#[test]
fn the_same_request_bytes_meet_the_same_checks_in_run_serve_and_proxy() {
    let rt = runtime();
    let scenario = super::common::catalogue().get("result/SUCCESS").unwrap();
    let keys = super::common::keys().gateway_keys().clone();
    let gateway = rt
        .block_on(Gateway::start(Script::of(scenario), keys))
        .unwrap();
    let serve = rt.block_on(Server::start(ServeConfig::loopback())).unwrap();
    let upstream = rt.block_on(Server::start(ServeConfig::loopback())).unwrap();
    let fixed = TestKeys::fixed();
    let proxy = rt
        .block_on(Proxy::start(ProxyConfig {
            merchant_public: Some(fixed.merchant.verifying_key()),
            alipay_public: Some(fixed.vendor.verifying_key()),
            ..ProxyConfig::loopback(
                Upstream::new(upstream.url(), None, Duration::from_secs(10)).unwrap(),
            )
        }))
        .unwrap();

    for (name, bytes) in requests() {
        // Arrange: each command's record so far.
        let before = (
            gateway.exchanges().len(),
            serve.journal().len(),
            proxy.journal().len(),
        );

        // Act: the same bytes to each.
        let statuses = [
            send(gateway.addr(), bytes.clone()),
            send(addr_of(serve.url()), bytes.clone()),
            send(addr_of(proxy.url()), bytes),
        ];

        // Assert: the same answer status, and the same request checks where recorded.
        assert_eq!(statuses[0], statuses[1], "{name}: run and serve");
        assert_eq!(statuses[0], statuses[2], "{name}: run and proxy");
        let exchanges = gateway.exchanges();
        assert_eq!(exchanges.len(), before.0 + 1, "{name}: run records it");
        let run = &exchanges[before.0];
        let run_checks = {
            let passed: Vec<(String, Level)> = Vec::new();
            request_checks(&run.checks, &passed)
        };
        let journal = serve.journal();
        assert_eq!(journal.len(), before.1 + 1, "{name}: serve journals it");
        let entry = &journal[before.1];
        let serve_checks = request_checks(&entry.checks, &entry.passed);
        // Numbered by each command's own count of requests: compared without the number.
        let unnumbered = |checks: &Checks, seq: usize| -> Checks {
            checks
                .iter()
                .map(|(id, v)| {
                    (
                        id.replacen(&format!("request[{seq}]"), "request[N]", 1),
                        v.clone(),
                    )
                })
                .collect()
        };
        let run_checks = unnumbered(&run_checks, before.0 + 1);
        let failed: Vec<&str> = run_checks
            .iter()
            .filter(|(_, (held, _))| !held)
            .map(|(id, _)| id.as_str())
            .collect();
        assert_eq!(failed, expected_failures(name), "{name}: {run_checks:?}");
        assert_eq!(
            run_checks,
            unnumbered(&serve_checks, entry.request.seq as usize),
            "{name}: run and serve"
        );
        let through = proxy.journal();
        assert_eq!(through.len(), before.2 + 1, "{name}: proxy journals it");
        let exchange = &through[before.2];
        let proxy_checks = request_checks(&exchange.checks, &exchange.passed);
        assert_eq!(
            run_checks,
            unnumbered(&proxy_checks, exchange.request.seq as usize),
            "{name}: run and proxy"
        );
    }
}

/// The proxy's own client reaches a TLS upstream, verified against the CA it is given, and
/// refuses one it cannot verify.
#[test]
fn proxy_forwards_to_a_tls_upstream_verified_against_its_ca() {
    let rt = runtime();
    let upstream = rt
        .block_on(Server::start(ServeConfig {
            tls: TlsSetting::RunCa,
            ..ServeConfig::loopback()
        }))
        .unwrap();
    let dir = std::env::temp_dir().join(format!("kit-http-path-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ca = dir.join("ca.pem");
    let pem = upstream.ready().ca_certificate_pem.as_deref().unwrap();
    std::fs::write(&ca, pem).unwrap();
    let other = dir.join("other.pem");
    // Another run's CA: it signed nothing this upstream holds.
    let another = alipay_cancel_kit::gateway::tls::TestPki::generate().unwrap();
    std::fs::write(&other, another.ca_certificate_pem()).unwrap();
    let start = |ca: &std::path::Path| {
        let upstream = Upstream::new(upstream.url(), Some(ca), Duration::from_secs(10)).unwrap();
        rt.block_on(Proxy::start(ProxyConfig::loopback(upstream)))
            .unwrap()
    };
    let (trusted, untrusted) = (start(&ca), start(&other));
    let _ = std::fs::remove_dir_all(&dir);
    let (_, bytes) = requests().remove(0);

    assert_eq!(send(addr_of(trusted.url()), bytes.clone()), 200);
    assert_eq!(send(addr_of(untrusted.url()), bytes), 502);

    let answered = trusted.journal().pop().unwrap();
    assert_eq!((answered.status, answered.upstream_error), (200, None));
    let refused = untrusted.journal().pop().unwrap();
    let why = refused.upstream_error.unwrap();
    assert!(why.starts_with("TLS handshake with localhost:"), "{why}");
}
