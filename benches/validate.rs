//! Throughput of `validate` on 100,000 generated NDJSON bodies, against the floor of
//! parsing the same file with serde_json alone, in the same run.
//!
//! `cargo bench --bench validate` (optionally `-- BODIES`); prints one Markdown table row
//! per measurement, the form the README's "Validating bodies" section records.

use std::io::{self, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use alipay_cancel_kit::exit::Exit;
use alipay_cancel_kit::validate::{run_with_stdin, Format, ValidateArgs};
use serde_json::Value;

/// A tiny deterministic generator (xorshift), so every run measures the same file.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    fn id(&mut self, max: u64) -> String {
        let len = 1 + self.below(max) as usize;
        (0..len)
            .map(|_| char::from(b'0' + (self.below(10) as u8)))
            .collect()
    }
}

/// One body: requests, S/F/U responses, traffic lines, and about one in ten invalid.
fn body(rng: &mut Rng) -> String {
    const CODES: [(&str, &str); 5] = [
        ("ORDER_NOT_EXIST", "F"),
        ("PROCESS_FAIL", "F"),
        ("UNKNOWN_EXCEPTION", "U"),
        ("INVALID_SIGNATURE", "F"),
        ("REQUEST_TRAFFIC_EXCEED_LIMIT", "U"),
    ];
    match rng.below(10) {
        0..=2 => format!(r#"{{"paymentId":"{}"}}"#, rng.id(64)),
        3 => format!(
            r#"{{"paymentRequestId":"pay_{}","merchantAccountId":"{}","paymentId":null}}"#,
            rng.id(60),
            rng.id(32)
        ),
        4..=5 => format!(
            r#"{{"result":{{"resultCode":"SUCCESS","resultStatus":"S","resultMessage":"成功"}},"paymentRequestId":"pay_{}","paymentId":"{}","cancelTime":"2019-06-12T19:07:{:02}+08:00"}}"#,
            rng.id(60),
            rng.id(64),
            rng.below(60)
        ),
        6..=7 => {
            let (code, status) = CODES[rng.below(CODES.len() as u64) as usize];
            format!(r#"{{"result":{{"resultCode":"{code}","resultStatus":"{status}","resultMessage":"message"}}}}"#)
        }
        8 => format!(
            r#"{{"request":{{"paymentId":"{}"}},"response":{{"result":{{"resultCode":"ORDER_NOT_EXIST","resultStatus":"F"}}}}}}"#,
            rng.id(64)
        ),
        _ => match rng.below(4) {
            0 => format!(r#"{{"paymentId":"{}"}}"#, "x".repeat(65)),
            1 => r#"{"result":{"resultCode":"ORDER_NOT_EXIST","resultStatus":"U"}}"#.to_owned(),
            2 => r#"{"result":{"resultCode":"SUCCESS","resultStatus":"S"},"paymentId":"p","paymentRequestId":"q","cancelTime":"2019-06-12 19:07:11+08:00"}"#.to_owned(),
            _ => r#"{"paymentRequestId":20}"#.to_owned(),
        },
    }
}

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            f();
            start.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() -> io::Result<()> {
    let bodies: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(100_000);
    let mut rng = Rng(0x2019_0612_1907_1108);
    let mut text = String::new();
    for _ in 0..bodies {
        text.push_str(&body(&mut rng));
        text.push('\n');
    }
    let path: PathBuf = std::env::temp_dir().join(format!(
        "alipay-cancel-kit-bench-{}.ndjson",
        std::process::id()
    ));
    std::fs::write(&path, &text)?;
    let megabytes = text.len() as f64 / 1e6;

    // The floor: read the file, split it into lines, parse each with serde_json.
    let floor = best_of(5, || {
        let bytes = std::fs::read(&path).expect("bench file");
        let mut parsed = 0usize;
        for line in bytes.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
            let value: Value = serde_json::from_slice(line).expect("generated JSON");
            parsed += usize::from(value.is_object());
        }
        assert_eq!(parsed, bodies);
    });

    let measure = |schema: bool| {
        let args = ValidateArgs {
            files: vec![path.clone()],
            kind: None,
            format: Format::Text,
            schema,
        };
        let mut status = Exit::Ok;
        let time = best_of(5, || {
            status = run_with_stdin(&args, io::empty(), &mut io::sink(), &mut io::sink());
        });
        assert_eq!(status, Exit::Failures, "about one body in ten is invalid");
        time
    };
    let types = measure(false);
    let both = measure(true);
    std::fs::remove_file(&path)?;

    let mut out = io::stdout().lock();
    writeln!(out, "{bodies} bodies, {megabytes:.1} MB, best of 5 runs")?;
    writeln!(out, "| measurement | time | bodies/s | MB/s | vs floor |")?;
    writeln!(out, "|---|---|---|---|---|")?;
    for (name, time) in [
        ("serde_json parse only (floor)", floor),
        ("validate (Rust types, the default)", types),
        ("validate --schema (types and JSON Schema)", both),
    ] {
        let seconds = time.as_secs_f64();
        writeln!(
            out,
            "| {name} | {:.0} ms | {:.0} | {:.1} | {:.2}x |",
            seconds * 1e3,
            bodies as f64 / seconds,
            megabytes / seconds,
            seconds / floor.as_secs_f64()
        )?;
    }
    let ratio = types.as_secs_f64() / floor.as_secs_f64();
    writeln!(
        out,
        "validate is {ratio:.2}x the parse-only floor (target: within 3x): {}",
        if ratio <= 3.0 { "met" } else { "NOT met" }
    )?;
    Ok(())
}
