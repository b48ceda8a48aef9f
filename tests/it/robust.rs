//! A kit no input can break: an interrupted run still reports and leaves no process behind;
//! over-long outcome lines, huge request bodies and endless input lines stay bounded
//! (`docs/contract.md`, "Interrupted runs" and "Limits").

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use alipay_cancel_kit::schema::Schema;

use crate::common::{keys, runtime, scratch_dir, BIN};

/// An adapter that answers `result/SUCCESS` at once (wrongly: `UNKNOWN`) and never answers
/// anything else: it records its pid and its child's pid in `pids`, then waits on a long
/// sleep, as a client stuck on a slow network would.
fn slow_adapter(dir: &Path) -> String {
    let pids = dir.join("pids");
    std::fs::create_dir_all(&pids).unwrap();
    let script = dir.join("slow-adapter.sh");
    std::fs::write(
        &script,
        format!(
            "if [ \"$1\" = --capabilities ]; then echo '[]'; exit 0; fi\n\
             read -r line\n\
             case \"$line\" in *'\"result/SUCCESS\"'*) echo '{{\"outcome\":\"UNKNOWN\"}}'; exit 0;; esac\n\
             echo $$ > '{pids}/'$$\n\
             sleep 300 &\n\
             echo $! > '{pids}/'$!\n\
             wait\n",
            pids = pids.display()
        ),
    )
    .unwrap();
    format!("sh '{}'", script.display())
}

fn recorded_pids(dir: &Path) -> Vec<u32> {
    std::fs::read_dir(dir.join("pids"))
        .map(|entries| {
            entries
                .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

/// Waits (a generous bound, not a timing assertion) until `n` adapter pids are recorded.
fn wait_for_pids(dir: &Path, n: usize, kit: &mut Child) {
    let start = Instant::now();
    while recorded_pids(dir).len() < n {
        assert!(
            kit.try_wait().unwrap().is_none(),
            "the kit ended before the adapters started"
        );
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the adapters never started"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Whether a process is gone: no such pid, or a zombie waiting for init to reap it.
fn gone(pid: u32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        Err(_) => true,
        Ok(stat) => stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z')),
    }
}

fn assert_all_gone(pids: &[u32]) {
    assert!(!pids.is_empty());
    // Killing is immediate; reaping by init may lag a little.
    let start = Instant::now();
    while !pids.iter().all(|p| gone(*p)) && start.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let alive: Vec<&u32> = pids.iter().filter(|p| !gone(**p)).collect();
    assert!(alive.is_empty(), "adapter processes left behind: {alive:?}");
}

fn signal(kit: &Child, name: &str) {
    let status = Command::new("kill")
        .args([&format!("-{name}"), &kit.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
}

fn wait_for_exit(kit: &mut Child) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = kit.try_wait().unwrap() {
            return status;
        }
        if start.elapsed() > Duration::from_secs(120) {
            let _ = kit.kill();
            panic!("the kit did not exit after the signal");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn report_of(path: &Path) -> serde_json::Value {
    let report: serde_json::Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let violations = Schema::Report.violations(&report);
    assert!(violations.is_empty(), "{violations:?}");
    report
}

/// The `message` of every `<skipped>` in a JUnit file (which must parse).
fn junit_skipped(path: &Path) -> Vec<String> {
    let xml = std::fs::read_to_string(path).unwrap();
    let mut reader = quick_xml::Reader::from_str(&xml);
    let mut skipped = Vec::new();
    loop {
        match reader.read_event().expect("well-formed JUnit XML") {
            quick_xml::events::Event::Start(e) | quick_xml::events::Event::Empty(e)
                if e.name().as_ref() == b"skipped" =>
            {
                let message = e
                    .try_get_attribute("message")
                    .unwrap()
                    .expect("skipped has a message");
                skipped.push(
                    message
                        .normalized_value(quick_xml::XmlVersion::Explicit1_0)
                        .unwrap()
                        .into_owned(),
                );
            }
            quick_xml::events::Event::Eof => break,
            _ => {}
        }
    }
    skipped
}

#[test]
fn sigterm_mid_run_writes_every_report_kills_every_adapter_and_exits_143() {
    let dir = scratch_dir("robust", "sigterm");
    let (json, junit, markdown) = (
        dir.join("report.json"),
        dir.join("report.xml"),
        dir.join("report.md"),
    );
    let mut kit = Command::new(BIN)
        .args([
            "run",
            "--client",
            &slow_adapter(&dir),
            "-j",
            "2",
            "-s",
            "result",
        ])
        .arg("--report-json")
        .arg(&json)
        .arg("--junit")
        .arg(&junit)
        .arg("--markdown")
        .arg(&markdown)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Two scenarios under way, each an adapter and its child.
    wait_for_pids(&dir, 4, &mut kit);
    signal(&kit, "TERM");
    let status = wait_for_exit(&mut kit);
    let out = kit.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(status.code(), Some(143), "{stdout}");
    assert_all_gone(&recorded_pids(&dir));

    let report = report_of(&json);
    assert_eq!(report["interrupted"]["signal"], "SIGTERM");
    let total = report["summary"]["total"].as_u64().unwrap();
    assert!(total > 2, "every selected scenario is in the report");
    let not_run = report["interrupted"]["notRun"].as_array().unwrap();
    assert_eq!(
        not_run.len() as u64,
        total - 1,
        "all but result/SUCCESS are not run"
    );
    for s in report["scenarios"].as_array().unwrap() {
        if s["id"] == "result/SUCCESS" {
            // Finished before the signal: its verdict stands.
            assert_eq!(s["verdict"], "FAIL");
        } else {
            assert_eq!(s["verdict"], "SKIPPED");
            assert!(s["reason"].as_str().unwrap().starts_with("not run:"));
            assert!(not_run.contains(&s["id"]));
        }
    }
    assert_eq!(report["summary"]["FAIL"], 1);
    let skipped = junit_skipped(&junit);
    assert_eq!(skipped.len() as u64, total - 1);
    assert!(skipped.iter().all(|m| m.contains("interrupted (SIGTERM)")));
    assert!(std::fs::read_to_string(&markdown)
        .unwrap()
        .contains(&format!(
            "**Interrupted** by SIGTERM: {} scenario(s) not run",
            total - 1
        )));
    assert!(
        stdout.contains(&format!(
            "interrupted by SIGTERM: {} scenario(s) not run",
            total - 1
        )),
        "{stdout}"
    );
}

#[test]
fn sigint_mid_fuzz_writes_the_report_kills_every_adapter_and_exits_130() {
    let dir = scratch_dir("robust", "sigint");
    let json = dir.join("report.json");
    let mut kit = Command::new(BIN)
        .args(["fuzz", "--persistent", "--client", &slow_adapter(&dir)])
        .args(["-j", "2", "--cases", "50", "--seed", "7"])
        // Far past the test: no case may end on its time limit before the signal.
        .args(["--time-limit-margin-ms", "600000"])
        .arg("--report-json")
        .arg(&json)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_pids(&dir, 4, &mut kit);
    signal(&kit, "INT");
    let status = wait_for_exit(&mut kit);
    let out = kit.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(status.code(), Some(130), "{stdout}");
    assert!(stdout.contains("INTERRUPTED (SIGINT)"), "{stdout}");
    assert_all_gone(&recorded_pids(&dir));
    let report = report_of(&json);
    assert_eq!(report["interrupted"]["signal"], "SIGINT");
    assert_eq!(report["interrupted"]["notRun"].as_array().unwrap().len(), 2);
}

#[test]
fn a_second_signal_exits_at_once() {
    let dir = scratch_dir("robust", "twice");
    let mut kit = Command::new(BIN)
        .args([
            "run",
            "--client",
            &slow_adapter(&dir),
            "-j",
            "1",
            "-s",
            "result",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    wait_for_pids(&dir, 2, &mut kit);
    signal(&kit, "TERM");
    signal(&kit, "TERM");
    let status = wait_for_exit(&mut kit);
    // Either the first signal's orderly stop won the race, or the second cut it short: both
    // exit 143, and neither leaves an adapter behind.
    assert_eq!(status.code(), Some(143));
    assert_all_gone(&recorded_pids(&dir));
}

#[test]
fn an_outcome_line_over_1_mib_ends_the_scenario_error_at_once_in_both_modes() {
    use alipay_cancel_kit::run::{self, Client, RunConfig};
    use alipay_cancel_kit::scenario::Catalogue;
    use alipay_cancel_kit::verdict::Verdict;

    let catalogue = Catalogue::embedded().unwrap();
    let scenario = catalogue.get("result/ORDER_NOT_EXIST").unwrap();
    // 2 MiB without a line break, then the adapter holds on: reported as too long, not as a
    // time-out after the hard limit.
    let flood = "head -c 2097152 /dev/zero | tr '\\0' x; sleep 300";
    for (command, persistent) in [
        (flood.to_owned(), false),
        (format!("read line; {flood}"), true),
    ] {
        let config = RunConfig {
            client: Client::Adapter {
                command,
                persistent,
            },
            jobs: 1,
            time_limit_margin: Duration::from_secs(60),
            keys: keys(),
            tls: false,
        };
        let report = runtime().block_on(run::run(&[scenario], &config)).unwrap();
        let result = &report.scenarios[0];
        assert_eq!(result.verdict, Verdict::Error, "persistent={persistent}");
        let why = result.reason.as_deref().unwrap_or_default();
        assert!(
            why.contains("longer than 1048576 bytes"),
            "persistent={persistent}: {why}"
        );
    }
}

#[test]
fn validate_streams_an_endless_line_reports_it_and_goes_on_at_the_next() {
    use alipay_cancel_kit::validate::{run_with_stdin, Format, ValidateArgs};
    use std::io::Read;

    let args = ValidateArgs {
        files: vec!["-".into()],
        kind: None,
        format: Format::Text,
        schema: false,
    };
    // 20 MiB of zeros without a line break (as `head -c 20M /dev/zero`), made as it is read:
    // a validator that held the line would hold all of it. Then a body that breaks a rule.
    let endless = std::io::repeat(0).take(20 << 20);
    let input = endless.chain(&b"\n{\"paymentId\":5}\n"[..]);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = run_with_stdin(&args, input, &mut out, &mut err);
    assert_eq!(code, alipay_cancel_kit::exit::Exit::Failures);
    assert_eq!(
        String::from_utf8(out).unwrap(),
        "-:1: (root): json: expected a body of at most 1048576 bytes, found 20971520 bytes (not parsed)\n\
         -:2: /paymentId: string: expected a string, found 5\n"
    );
    assert!(
        String::from_utf8_lossy(&err).starts_with("2 bodies, 2 invalid"),
        "{}",
        String::from_utf8_lossy(&err)
    );
}

#[test]
fn validate_into_a_closed_pipe_ends_quietly() {
    use std::io::BufRead;

    let dir = scratch_dir("robust", "pipe");
    let file = dir.join("big.ndjson");
    std::fs::write(&file, "{\"paymentId\":5}\n".repeat(200_000)).unwrap();
    let mut kit = Command::new(BIN)
        .arg("validate")
        .arg(&file)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Read one line, then close the pipe, as `| head -1` does.
    let mut first = String::new();
    std::io::BufReader::new(kit.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.contains("big.ndjson:1: /paymentId"), "{first}");
    let out = kit.wait_with_output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stderr), "");
    // The status of what was read: invalid bodies.
    assert_eq!(out.status.code(), Some(1));
}

/// Sends `head` and then `body_len` bytes in pieces to the gateway, as a client streaming a
/// huge body would, and returns the status line of the answer.
async fn send_huge(addr: std::net::SocketAddr, head: String, body: &[u8], pieces: usize) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut read, mut write) = stream.into_split();
    let sending = tokio::spawn({
        let body = body.to_vec();
        async move {
            write.write_all(head.as_bytes()).await?;
            for _ in 0..pieces {
                write.write_all(&body).await?;
            }
            write.flush().await
        }
    });
    let mut answer = Vec::new();
    read.read_to_end(&mut answer).await.unwrap();
    // The gateway read (and dropped) the whole body before closing: the send completed.
    sending.await.unwrap().unwrap();
    String::from_utf8_lossy(&answer)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// A gateway for catalogue scenario `id`, started on `rt` with the fixed keys.
fn start_gateway(rt: &tokio::runtime::Runtime, id: &str) -> alipay_cancel_kit::gateway::Gateway {
    use alipay_cancel_kit::gateway::{Gateway, Script};
    let scenario = crate::common::catalogue().get(id).unwrap();
    let keys = keys().gateway_keys().clone();
    rt.block_on(Gateway::start(Script::of(scenario), keys))
        .unwrap()
}

#[test]
fn a_request_body_over_1_mib_gets_413_is_recorded_cut_and_fails_check_8() {
    use alipay_cancel_kit::gateway::limit::MAX_BODY_BYTES;
    use alipay_cancel_kit::spec::endpoint::PATH as CANCEL_PATH;
    use alipay_cancel_kit::verdict::Level;

    let rt = runtime();
    // A wiremock-served scenario and a raw-served one (a transport fault): the same front.
    for id in ["result/SUCCESS", "fault/connection-closed"] {
        let gateway = start_gateway(&rt, id);
        let piece = vec![b' '; 64 * 1024];
        // 8 MiB declared by Content-Length, then the same chunked.
        let declared = format!(
            "POST {CANCEL_PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
            128 * piece.len()
        );
        let status = rt.block_on(send_huge(gateway.addr(), declared, &piece, 128));
        assert_eq!(status, "HTTP/1.1 413 Payload Too Large", "{id}");
        let mut chunk = format!("{:x}\r\n", piece.len()).into_bytes();
        chunk.extend_from_slice(&piece);
        chunk.extend_from_slice(b"\r\n");
        let chunked = format!(
            "POST {CANCEL_PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n"
        );
        let status = rt.block_on(send_huge(gateway.addr(), chunked, &chunk, 128));
        assert_eq!(status, "HTTP/1.1 413 Payload Too Large", "{id}");

        let exchanges = gateway.exchanges();
        assert_eq!(exchanges.len(), 2, "{id}: both recorded");
        for (exchange, seen) in exchanges.iter().zip([
            "Content-Length: 8388608".to_owned(),
            format!("a chunked body past {MAX_BODY_BYTES} bytes"),
        ]) {
            assert_eq!(
                exchange.request.body.len(),
                MAX_BODY_BYTES,
                "{id}: cut at 1 MiB"
            );
            assert_eq!(exchange.served.answer.status, 413);
            let check = &exchange.checks[0];
            assert!(check.id.ends_with(".body-size"), "{}", check.id);
            assert!(!check.held);
            assert_eq!(check.level, Level::Must);
            assert_eq!(check.rule, "docs/contract.md#request-checks 8");
            assert_eq!(check.seen.as_deref(), Some(seen.as_str()));
        }
    }
}

#[test]
fn a_chunked_body_within_the_limit_is_relayed_whole_and_expect_100_continue_is_answered() {
    use alipay_cancel_kit::spec::endpoint::PATH as CANCEL_PATH;
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};

    let rt = runtime();
    let gateway = start_gateway(&rt, "result/SUCCESS");
    let body = br#"{"paymentId":"p-1"}"#;
    let (interim, status) = rt.block_on(async {
        let stream = tokio::net::TcpStream::connect(gateway.addr())
            .await
            .unwrap();
        let mut stream = tokio::io::BufReader::new(stream);
        let head = format!(
            "POST {CANCEL_PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
             transfer-encoding: chunked\r\nexpect: 100-continue\r\n\r\n"
        );
        stream.get_mut().write_all(head.as_bytes()).await.unwrap();
        // The client waits for the interim answer before it sends the body.
        let mut interim = String::new();
        stream.read_line(&mut interim).await.unwrap();
        let mut blank = String::new();
        stream.read_line(&mut blank).await.unwrap();
        let (a, b) = body.split_at(7);
        let chunks = format!(
            "{:x}\r\n{}\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            a.len(),
            String::from_utf8_lossy(a),
            b.len(),
            String::from_utf8_lossy(b)
        );
        stream.get_mut().write_all(chunks.as_bytes()).await.unwrap();
        let mut status = String::new();
        stream.read_line(&mut status).await.unwrap();
        let mut rest = [0u8; 1];
        let _ = stream.read(&mut rest).await;
        (interim, status)
    });
    assert_eq!(interim.trim_end(), "HTTP/1.1 100 Continue");
    // Unsigned, so the gateway refuses it as the real one would; what matters is that the
    // request went through whole, and only one interim answer came.
    assert!(status.starts_with("HTTP/1.1 200"), "{status}");
    let exchanges = gateway.exchanges();
    assert_eq!(exchanges.len(), 1);
    assert_eq!(exchanges[0].request.body, body);
    assert!(exchanges[0].request.header("expect").is_none());
}

/// Sends raw request bytes to a gateway and reads until the connection ends; `half_close`
/// shuts the sending side right after the request, as some clients do.
fn exchange_raw(
    rt: &tokio::runtime::Runtime,
    addr: std::net::SocketAddr,
    request: &[u8],
    half_close: bool,
) -> String {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    rt.block_on(async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
        stream.write_all(request).await.unwrap();
        if half_close {
            stream.shutdown().await.unwrap();
        }
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(10),
            stream.read_to_end(&mut answer),
        )
        .await
        .expect("the gateway ends the connection after its answer")
        .unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    })
}

#[test]
fn gateways_on_the_shared_wiremock_servers_record_only_their_own_requests() {
    use alipay_cancel_kit::gateway::Gateway;
    use alipay_cancel_kit::spec::endpoint::PATH as CANCEL_PATH;

    // Arrange: every gateway's requests go to the same few wiremock servers, on kept-alive
    // connections, each carrying its gateway's route; each gateway has a front door of its
    // own. Two at once, then a third after the first ends.
    let rt = runtime();
    let start = || {
        let gateway = start_gateway(&rt, "result/SUCCESS");
        assert_eq!(gateway.front(), "wiremock");
        gateway
    };
    let send = |gateway: &Gateway, body: &str| {
        let request = format!(
            "POST {CANCEL_PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let answer = exchange_raw(&rt, gateway.addr(), request.as_bytes(), false);
        assert!(answer.starts_with("HTTP/1.1 "), "{answer:?}");
    };
    let bodies = |gateway: &Gateway| -> Vec<String> {
        gateway
            .exchanges()
            .iter()
            .map(|e| String::from_utf8_lossy(&e.request.body).into_owned())
            .collect()
    };

    // Act
    let first = start();
    let second = start();
    send(&first, r#"{"paymentId":"first"}"#);
    send(&second, r#"{"paymentId":"second"}"#);
    send(&first, r#"{"paymentId":"first again"}"#);
    let first_bodies = bodies(&first);
    drop(first);
    let third = start();
    send(&third, r#"{"paymentId":"third"}"#);

    // Assert
    assert_eq!(
        first_bodies,
        [r#"{"paymentId":"first"}"#, r#"{"paymentId":"first again"}"#]
    );
    assert_eq!(bodies(&second), [r#"{"paymentId":"second"}"#]);
    assert_eq!(bodies(&third), [r#"{"paymentId":"third"}"#]);
    // The route line the front door adds is never recorded as the client's.
    for exchange in second.exchanges().iter().chain(third.exchanges().iter()) {
        assert!(
            exchange
                .request
                .headers
                .iter()
                .all(|(name, _)| !name.contains("route")),
            "{:?}",
            exchange.request.headers
        );
    }
}

#[test]
fn the_front_door_keeps_a_client_connection_answers_a_half_close_and_honours_close() {
    use alipay_cancel_kit::spec::endpoint::PATH as CANCEL_PATH;

    let rt = runtime();
    let gateway = start_gateway(&rt, "result/SUCCESS");
    let request = |body: &str, extra: &str| {
        format!(
            "POST {CANCEL_PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n{extra}content-length: {}\r\n\r\n{body}",
            body.len()
        )
    };

    // Three requests on one kept-alive connection, the last asking to close: three answers in
    // order, then the connection ends.
    let three = [
        request(r#"{"paymentId":"k-1"}"#, ""),
        request(r#"{"paymentId":"k-2"}"#, "expect: 100-continue\r\n"),
        request(r#"{"paymentId":"k-3"}"#, "connection: close\r\n"),
    ]
    .concat();
    let answers = exchange_raw(&rt, gateway.addr(), three.as_bytes(), false);
    assert_eq!(answers.matches("HTTP/1.1 200 ").count(), 3, "{answers}");
    assert_eq!(
        answers.matches("HTTP/1.1 100 Continue\r\n\r\n").count(),
        1,
        "one interim answer, from the front door: {answers}"
    );
    // A client that shuts its sending side right after the request still gets its answer.
    let half = request(r#"{"paymentId":"k-4"}"#, "");
    let answer = exchange_raw(&rt, gateway.addr(), half.as_bytes(), true);
    assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
    // HTTP/1.0 without keep-alive: answered, then closed (the read above would time out).
    let old = request(r#"{"paymentId":"k-5"}"#, "").replacen("HTTP/1.1", "HTTP/1.0", 1);
    let answer = exchange_raw(&rt, gateway.addr(), old.as_bytes(), false);
    assert!(answer.starts_with("HTTP/1."), "{answer}");

    let exchanges = gateway.exchanges();
    let bodies: Vec<String> = exchanges
        .iter()
        .map(|e| String::from_utf8_lossy(&e.request.body).into_owned())
        .collect();
    assert_eq!(
        bodies,
        ["k-1", "k-2", "k-3", "k-4", "k-5"].map(|id| format!(r#"{{"paymentId":"{id}"}}"#))
    );
    assert!(exchanges[1].request.header("expect").is_none());
}

#[test]
fn a_request_in_flight_when_its_gateway_ends_leaves_the_next_gateways_whole() {
    use alipay_cancel_kit::spec::endpoint::PATH as CANCEL_PATH;
    use tokio::io::AsyncWriteExt;

    // A delayed answer is still on its way through a shared server when the gateway ends;
    // the next gateways on the same servers answer and record as ever.
    let rt = runtime();
    let body = r#"{"paymentId":"late"}"#;
    let request = format!(
        "POST {CANCEL_PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    let delayed = start_gateway(&rt, "fault/timeout");
    assert_eq!(delayed.front(), "wiremock");
    let stream = rt.block_on(async {
        let mut stream = tokio::net::TcpStream::connect(delayed.addr())
            .await
            .unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        stream
    });
    drop(delayed);
    drop(stream);
    for n in 0..8 {
        let gateway = start_gateway(&rt, "result/SUCCESS");
        let body = format!(r#"{{"paymentId":"next-{n}"}}"#);
        let request = format!(
            "POST {CANCEL_PATH} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
            body.len()
        );
        let answer = exchange_raw(&rt, gateway.addr(), request.as_bytes(), false);
        assert!(answer.starts_with("HTTP/1.1 200 "), "{answer}");
        let exchanges = gateway.exchanges();
        assert_eq!(exchanges.len(), 1);
        assert_eq!(exchanges[0].request.body, body.as_bytes());
    }
}

/// The run gateway's front door caps its connections, idle ones making room for a newcomer;
/// the TLS front closes a client that never says hello.
#[test]
fn the_run_gateways_doors_make_room_for_a_newcomer_and_close_a_silent_tls_client() {
    use alipay_cancel_kit::gateway::tls::{Mode, TestPki, TlsFront};
    use std::io::Read;

    let rt = runtime();
    let gateway = start_gateway(&rt, "result/SUCCESS");
    let idle: Vec<std::net::TcpStream> = (0..300)
        .map(|_| std::net::TcpStream::connect(gateway.addr()).unwrap())
        .collect();
    let answer = exchange_raw(
        &rt,
        gateway.addr(),
        b"GET /ams/api/v1/payments/cancel HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        false,
    );
    assert!(
        answer.starts_with("HTTP/1.1 "),
        "served past 300 idle connections: {answer}"
    );
    drop(idle);

    // Ambiguous framing is refused before the server behind sees it, and recorded.
    let smuggled = exchange_raw(
        &rt,
        gateway.addr(),
        b"POST /ams/api/v1/payments/cancel HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\ncontent-length: 9\r\n\r\n{}",
        false,
    );
    assert!(smuggled.starts_with("HTTP/1.1 400"), "{smuggled}");
    let last = gateway.exchanges().pop().unwrap();
    assert_eq!(
        last.checks[0].id,
        format!("request[{}].framing", gateway.exchanges().len())
    );
    assert!(
        last.checks[0].message.contains("given twice, differently"),
        "{:?}",
        last.checks
    );

    let pki = TestPki::generate().unwrap();
    let front = rt
        .block_on(TlsFront::start(
            pki.server_config(Mode::Trusted),
            gateway.addr(),
        ))
        .unwrap();
    let mut silent = std::net::TcpStream::connect(front.addr()).unwrap();
    silent
        .set_read_timeout(Some(std::time::Duration::from_secs(60)))
        .unwrap();
    let mut nothing = Vec::new();
    let read = silent.read_to_end(&mut nothing);
    assert!(
        matches!(read, Ok(0)),
        "closed by the front, not by the test's timeout: {read:?}"
    );
}
