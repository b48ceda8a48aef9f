//! `cargo bench --bench serve` (or `benches/serve.sh`, which also installs Prism): `serve`
//! against Prism mocking `schema/openapi.json`, side by side in one run.
//!
//! For each server: the time from spawn to the first answered request (ready), the requests
//! per second under a bounded load over loopback (`REQUESTS` validly signed requests with
//! distinct ids, signed before the clock starts, on `CONNECTIONS` keep-alive connections),
//! and the peak resident memory (`VmHWM`) afterwards. `serve` verifies every request's
//! signature and signs every answer; Prism does neither (OpenAPI cannot express them).
//!
//! Then the proxy's cost: the median and 90th percentile time of one exchange, sequentially
//! on one keep-alive connection, with `serve` directly and through `proxy` in front of it.
//!
//! Environment: `KIT` (default `target/release/alipay-cancel-kit`), `PRISM` (the `prism`
//! executable; without it only `serve` is measured), `REQUESTS` (default 20000),
//! `CONNECTIONS` (default 32).

use std::net::{SocketAddr, TcpListener};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use alipay_cancel_kit::signature::{self, TestKeys};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

const PATH: &str = "/ams/api/v1/payments/cancel";
const CLIENT_ID: &str = "TEST_5YBZ1";

struct Measured {
    name: &'static str,
    ready: Duration,
    per_second: f64,
    ok: usize,
    peak_mb: f64,
}

fn env_or(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Validly signed cancel requests with distinct ids, as raw HTTP/1.1 bytes.
fn signed_requests(n: usize, host: &str) -> Vec<Vec<u8>> {
    let keys = TestKeys::fixed();
    (0..n)
        .map(|i| {
            let body = format!(r#"{{"paymentRequestId":"bench-{i}"}}"#);
            let time = chrono::Utc::now().timestamp_millis().to_string();
            let sig = signature::sign(&keys.merchant, PATH, CLIENT_ID, &time, body.as_bytes());
            format!(
                "POST {PATH} HTTP/1.1\r\nhost: {host}\r\ncontent-type: application/json; charset=UTF-8\r\n\
                 client-id: {CLIENT_ID}\r\nrequest-time: {time}\r\nsignature: {}\r\n\
                 content-length: {}\r\n\r\n{body}",
                signature::header_value("1", &sig),
                body.len()
            )
            .into_bytes()
        })
        .collect()
}

/// Sends one request and reads its answer; the status, or `None` when the connection failed.
async fn exchange(stream: &mut BufReader<TcpStream>, request: &[u8]) -> Option<u16> {
    stream.get_mut().write_all(request).await.ok()?;
    let mut line = String::new();
    stream.read_line(&mut line).await.ok()?;
    let status = line.split(' ').nth(1)?.parse().ok()?;
    let mut length = 0;
    loop {
        line.clear();
        stream.read_line(&mut line).await.ok()?;
        let trimmed = line.trim_end();
        if trimmed.is_empty() {
            break;
        }
        if let Some((name, value)) = trimmed.split_once(':') {
            if name.eq_ignore_ascii_case("content-length") {
                length = value.trim().parse().ok()?;
            }
        }
    }
    let mut body = vec![0; length];
    stream.read_exact(&mut body).await.ok()?;
    Some(status)
}

/// Polls until the server answers a request; the time since `started`.
async fn wait_ready(addr: SocketAddr, probe: &[u8], started: Instant) -> Duration {
    loop {
        if let Ok(stream) = TcpStream::connect(addr).await {
            if exchange(&mut BufReader::new(stream), probe).await.is_some() {
                return started.elapsed();
            }
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{addr} never answered"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

async fn load(addr: SocketAddr, requests: Arc<Vec<Vec<u8>>>, connections: usize) -> (f64, usize) {
    let next = Arc::new(AtomicUsize::new(0));
    let ok = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..connections {
        let (requests, next, ok) = (requests.clone(), next.clone(), ok.clone());
        tasks.push(tokio::spawn(async move {
            let mut stream = BufReader::new(TcpStream::connect(addr).await.unwrap());
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(i) else {
                    return;
                };
                match exchange(&mut stream, request).await {
                    Some(200) => {
                        ok.fetch_add(1, Ordering::Relaxed);
                    }
                    Some(_) => {}
                    None => stream = BufReader::new(TcpStream::connect(addr).await.unwrap()),
                }
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let ok = ok.load(Ordering::Relaxed);
    (ok as f64 / elapsed, ok)
}

/// A server process, killed when the benchmark is done with it (or fails).
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peak_mb(child: &Child) -> f64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

/// Spawns a server on a port picked just before (`command` gets it as its last argument's
/// value through `args`), waits for it, loads it, reads its peak memory, stops it.
async fn measure(name: &'static str, program: &str, args: &[&str]) -> Measured {
    let n = env_or("REQUESTS", 20_000);
    let connections = env_or("CONNECTIONS", 32);
    // Signed before the clock starts: the benchmark does not measure its own signing.
    let requests = Arc::new(signed_requests(n, "127.0.0.1"));
    let probe = signed_requests(1, "127.0.0.1").remove(0);
    let port = free_port();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let port = port.to_string();
    let args: Vec<&str> = args
        .iter()
        .map(|a| if *a == "PORT" { port.as_str() } else { a })
        .collect();
    let started = Instant::now();
    let mut child = Running(spawn(program, &args));
    let ready = tokio::select! {
        ready = wait_ready(addr, &probe, started) => ready,
        () = exited(&mut child.0) => panic!("{name} exited before answering (port {port} taken?)"),
    };
    let (per_second, ok) = load(addr, requests, connections).await;
    let peak_mb = peak_mb(&child.0);
    Measured {
        name,
        ready,
        per_second,
        ok,
        peak_mb,
    }
}

async fn exited(child: &mut Child) {
    while child.try_wait().ok().flatten().is_none() {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Per-exchange times, sequentially on one keep-alive connection, in milliseconds, sorted.
async fn latencies(addr: SocketAddr, requests: &[Vec<u8>]) -> Vec<f64> {
    let mut stream = BufReader::new(TcpStream::connect(addr).await.unwrap());
    let mut times = Vec::with_capacity(requests.len());
    for request in requests {
        let started = Instant::now();
        assert_eq!(
            exchange(&mut stream, request).await,
            Some(200),
            "{addr} answered"
        );
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    times.sort_by(f64::total_cmp);
    times
}

fn spawn(program: &str, args: &[&str]) -> Child {
    Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {program}: {e}"))
}

/// The proxy's added time per exchange: `serve` directly, then through `proxy`.
async fn proxy_overhead(kit: &str) {
    let n = env_or("LATENCY_REQUESTS", 2_000);
    let requests = signed_requests(n, "127.0.0.1");
    let probe = signed_requests(1, "127.0.0.1").remove(0);
    let (serve_port, proxy_port) = (free_port(), free_port());
    let upstream = format!("http://127.0.0.1:{serve_port}");
    let serve_args = [
        "serve",
        "--port",
        &serve_port.to_string(),
        "--no-violations-header",
    ];
    let _serve = Running(spawn(kit, &serve_args));
    let keys = "conformance/keys";
    let _proxy = Running(spawn(
        kit,
        &[
            "proxy",
            "--upstream",
            &upstream,
            "--port",
            &proxy_port.to_string(),
            "--merchant-public-key",
            &format!("{keys}/TEST-ONLY-merchant-public.spki.b64"),
            "--alipay-public-key",
            &format!("{keys}/TEST-ONLY-vendor-public.spki.b64"),
        ],
    ));
    let (direct, through) = (
        SocketAddr::from(([127, 0, 0, 1], serve_port)),
        SocketAddr::from(([127, 0, 0, 1], proxy_port)),
    );
    wait_ready(direct, &probe, Instant::now()).await;
    wait_ready(through, &probe, Instant::now()).await;
    let (a, b) = requests.split_at(n / 2);
    let direct_ms = latencies(direct, a).await;
    let through_ms = latencies(through, b).await;
    let at = |v: &[f64], q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    println!(
        "\n{:<38} {:>12} {:>12}",
        "one exchange, sequential", "median ms", "p90 ms"
    );
    println!(
        "{:<38} {:>12.3} {:>12.3}",
        "serve directly",
        at(&direct_ms, 0.5),
        at(&direct_ms, 0.9)
    );
    println!(
        "{:<38} {:>12.3} {:>12.3}",
        "through proxy (checking both ways)",
        at(&through_ms, 0.5),
        at(&through_ms, 0.9)
    );
    println!(
        "proxy adds {:.3} ms at the median (target < 1 ms)",
        at(&through_ms, 0.5) - at(&direct_ms, 0.5)
    );
}

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let kit = std::env::var("KIT").unwrap_or_else(|_| "target/release/alipay-cancel-kit".into());
    runtime.block_on(async {
        let mut results = Vec::new();
        let serve = ["serve", "--port", "PORT", "--no-violations-header"];
        results.push(measure("alipay-cancel-kit serve", &kit, &serve).await);
        if let Ok(prism) = std::env::var("PRISM") {
            let mock = ["mock", "-h", "127.0.0.1", "-p", "PORT", "schema/openapi.json"];
            results.push(measure("Prism (mock of schema/openapi.json)", &prism, &mock).await);
        }
        println!(
            "{:<38} {:>10} {:>12} {:>10} {:>12}",
            "server", "ready ms", "requests/s", "answered", "peak MB"
        );
        for m in &results {
            println!(
                "{:<38} {:>10.1} {:>12.0} {:>10} {:>12.1}",
                m.name,
                m.ready.as_secs_f64() * 1000.0,
                m.per_second,
                m.ok,
                m.peak_mb
            );
        }
        if let [kit, prism] = &results[..] {
            println!(
                "ratios: ready {:.3}x Prism's (target < 50 ms), requests/s {:.2}x (target >= 2x), peak memory {:.3}x (target < 0.2x)",
                kit.ready.as_secs_f64() / prism.ready.as_secs_f64(),
                kit.per_second / prism.per_second,
                kit.peak_mb / prism.peak_mb
            );
        }
        proxy_overhead(&kit).await;
    });
}
