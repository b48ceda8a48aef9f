#!/usr/bin/env bash
# What a scoped wiremock Mock per gateway would cost the shared wiremock servers
# (docs/design.md): request time on a server with K gateways' mocks mounted and dropped before
# (wiremock 0.6 keeps out-of-scope mocks, sorting and walking them on every request), beside
# today's one any() mock. Builds a small crate under target/wiremock-scoped with the kit's
# Cargo.lock (offline when the registry cache holds wiremock), one size per process.
# Usage: benches/wiremock-scoped.sh [ROUNDS]   (default 3)
set -euo pipefail
cd "$(dirname "$0")/.."
dir=target/wiremock-scoped
mkdir -p "$dir/src"
cp Cargo.lock "$dir/"
cat > "$dir/Cargo.toml" <<'TOML'
[package]
name = "wiremock-scoped"
version = "0.1.0"
edition = "2021"
publish = false

[workspace]

[dependencies]
wiremock = "=0.6.5"
tokio = { version = "1", features = ["full"] }
TOML
cat > "$dir/src/main.rs" <<'RUST'
//! What a scoped Mock per gateway would cost the shared wiremock servers: request time with
//! K gateways' mocks mounted and dropped before (wiremock keeps out-of-scope mocks and walks
//! them on every request), and the cost of mounting and dropping one.
use std::time::Instant;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wiremock::{Match, Mock, MockServer, Request, ResponseTemplate};

struct Route(u64);
impl Match for Route {
    fn matches(&self, r: &Request) -> bool {
        r.headers.get("x-route").and_then(|v| v.to_str().ok()).and_then(|v| v.parse().ok()) == Some(self.0)
    }
}

async fn per_request(server: &MockServer, route: u64, n: usize) -> f64 {
    let mut s = tokio::net::TcpStream::connect(server.address()).await.unwrap();
    s.set_nodelay(true).unwrap();
    let req = format!("POST /x HTTP/1.1\r\nhost: x\r\nx-route: {route}\r\ncontent-length: 2\r\n\r\n{{}}");
    let mut buf = vec![0u8; 4096];
    let t = Instant::now();
    for _ in 0..n {
        s.write_all(req.as_bytes()).await.unwrap();
        let mut got = 0;
        loop {
            let k = s.read(&mut buf[got..]).await.unwrap();
            got += k;
            let text = &buf[..got];
            if let Some(p) = text.windows(4).position(|w| w == b"\r\n\r\n") {
                if got >= p + 4 + 2 { break; }
            }
        }
    }
    t.elapsed().as_secs_f64() * 1e6 / n as f64
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    // Exits without dropping the guards (see above).
    let n = 3000;
    // One size per process: dropping the scoped guards of one server and starting another in
    // the same process hung in every try (see docs/design.md).
    let sizes: Vec<u64> = std::env::args().skip(1).map(|a| a.parse().unwrap()).collect();
    for dead in sizes {
        let server = MockServer::builder().disable_request_recording().start().await;
        let t = Instant::now();
        for id in 0..dead {
            let guard = Mock::given(Route(id)).respond_with(ResponseTemplate::new(200).set_body_bytes(b"ok".to_vec())).mount_as_scoped(&server).await;
            drop(guard);
        }
        let mount = if dead > 0 { t.elapsed().as_secs_f64() * 1e6 / dead as f64 } else { 0.0 };
        // The gateways alive at once in a fuzz run (jobs), the one asked for mounted first.
        let mut live = Vec::new();
        for id in 0..47u64 {
            live.push(Mock::given(Route(1_000_000 + id)).respond_with(ResponseTemplate::new(200)).mount_as_scoped(&server).await);
        }
        let _live = Mock::given(Route(999_999)).respond_with(ResponseTemplate::new(200).set_body_bytes(b"ok".to_vec())).mount_as_scoped(&server).await;
        let us = per_request(&server, 999_999, n).await;
        println!("out-of-scope mocks {dead:5}: {us:7.1} us/request; mount+drop {mount:6.1} us/gateway");
        std::mem::forget((server, live, _live));
    }
    if std::env::var_os("TODAY").is_none() {
        std::process::exit(0);
    }
    // Today's routing: one any() mock, the route looked up in a table.
    let server = MockServer::builder().disable_request_recording().start().await;
    Mock::given(wiremock::matchers::any()).respond_with(ResponseTemplate::new(200).set_body_bytes(b"ok".to_vec())).mount(&server).await;
    let us = per_request(&server, 1, n).await;
    println!("one any() mock (today):  {us:7.1} us/request");
}
RUST
(cd "$dir" && cargo build --release --quiet --offline 2>/dev/null || cargo build --release --quiet)
bin=$dir/target/release/wiremock-scoped
for round in $(seq "${1:-3}"); do
    echo "round $round; load average: $(cut -d' ' -f1-3 /proc/loadavg)"
    for dead in 0 1000 5000 10000; do
        timeout 120 "$bin" "$dead"
    done
    TODAY=1 timeout 120 "$bin"
done
