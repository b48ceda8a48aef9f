//! `cargo bench --bench signing`: the kit's RSA-2048 signer beside `openssl speed rsa2048`.
//!
//! Every exchange costs two private-key operations (the client signs its request, the
//! gateway its answer), so signing is the floor of `fuzz` and of a run at scale. The target
//! (README, "Speed"): a signature within 1.25x of the time `openssl speed` takes for one on
//! the same core. The bench alternates rounds of `openssl speed -seconds S rsa2048` and the
//! kit's signer for the same S seconds on one thread, so both see the same machine load,
//! and prints each round's ratio, then the best and the median.
//!
//! Both are timed in CPU time, not wall time: `openssl speed` divides by the user CPU time
//! it used unless told `-elapsed`, and on a machine shared with other work the CPU time is
//! what stays comparable. The kit's side reads its thread's on-CPU nanoseconds from
//! `/proc/thread-self/schedstat` (wall time, and a note, where that file is missing).
//!
//! The kit's signer is measured as the gateway and the reference client use it:
//! [`signature::sign`] (string to sign, SHA-256, the private-key operation, base64,
//! URL-encoding) with a key parsed once. The `rsa` crate, the second oracle, is timed for
//! reference. `ROUNDS` and `SECONDS` in the environment override the defaults (3 and 3).

use std::process::Command;
use std::time::{Duration, Instant};

use alipay_cancel_kit::signature::{self, TestKeys};
use base64::Engine as _;

/// The calling thread's time on a CPU so far, in seconds (the first field of schedstat).
fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let nanos: u64 = text.split_whitespace().next()?.parse().ok()?;
    Some(nanos as f64 / 1e9)
}

/// What one call of `f` costs, in CPU seconds (wall seconds where the thread's CPU time
/// cannot be read), from calling it for `seconds` of wall time.
fn time_per_op(seconds: f64, mut f: impl FnMut()) -> f64 {
    let budget = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let cpu_started = thread_cpu_seconds();
    let mut n = 0u64;
    while started.elapsed() < budget {
        for _ in 0..16 {
            f();
        }
        n += 16;
    }
    let spent = match (cpu_started, thread_cpu_seconds()) {
        (Some(a), Some(b)) => b - a,
        _ => started.elapsed().as_secs_f64(),
    };
    spent / n as f64
}

/// `openssl speed -seconds S rsa2048`'s time per signature, in seconds; `None` (with the
/// reason on stderr) when `openssl` cannot be run or its table is not found.
fn openssl_speed(seconds: u32) -> Option<f64> {
    let output = match Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), "rsa2048"])
        .output()
    {
        Ok(o) => o,
        Err(e) => {
            eprintln!("note: cannot run `openssl speed`: {e}");
            return None;
        }
    };
    let text = String::from_utf8_lossy(&output.stdout);
    // `rsa 2048 bits 0.000213s 0.000013s   4701.6  77719.7`: sign, verify, sign/s, verify/s.
    let line = text.lines().find(|l| l.starts_with("rsa 2048 bits"))?;
    let sign_per_s: f64 = line.split_whitespace().nth(5)?.parse().ok()?;
    (sign_per_s > 0.0).then(|| 1.0 / sign_per_s)
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 {
        values[mid]
    } else {
        (values[mid - 1] + values[mid]) / 2.0
    }
}

fn env_number(name: &str, default: u32) -> u32 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let rounds = env_number("ROUNDS", 3).max(1);
    let seconds = env_number("SECONDS", 3).max(1);
    let keys = TestKeys::fixed();
    let path = "/ams/api/v1/payments/cancel";
    let body = br#"{"paymentId":"2019061218401080010018882020035XXXX","paymentRequestId":"pay_1089760038715669_102775745070000"}"#;
    let version = Command::new("openssl")
        .arg("version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|_| "openssl: not found".to_owned());
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!(
        "RSA-2048 PKCS#1 v1.5 SHA-256 signatures, one thread; {version}; load average {}",
        load.split_whitespace()
            .take(3)
            .collect::<Vec<_>>()
            .join(" ")
    );
    if thread_cpu_seconds().is_none() {
        println!("note: no /proc/thread-self/schedstat: the kit is timed in wall time, openssl in CPU time");
    }
    println!(
        "{rounds} rounds of {seconds} s each: openssl speed, then the kit's signer (CPU time per signature)"
    );
    let (mut ratios, mut kit_times, mut openssl_times) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=rounds {
        let openssl = openssl_speed(seconds);
        let kit = time_per_op(f64::from(seconds), || {
            std::hint::black_box(signature::sign(
                &keys.vendor,
                path,
                "TEST_5YBZ1",
                "1685599933871",
                std::hint::black_box(body),
            ));
        });
        kit_times.push(kit);
        let shown = match openssl {
            Some(o) => {
                openssl_times.push(o);
                ratios.push(kit / o);
                format!(
                    "openssl speed {:.3} ms ({:.0}/s), ratio {:.2}",
                    o * 1e3,
                    1.0 / o,
                    kit / o
                )
            }
            None => "openssl speed: unavailable".to_owned(),
        };
        println!(
            "round {round}: kit {:.3} ms ({:.0}/s); {shown}",
            kit * 1e3,
            1.0 / kit
        );
    }
    let reference = time_per_op(1.0, || {
        std::hint::black_box(keys.vendor.sign_message_reference(body));
    });
    // `ring`, the backend before OpenSSL (still in the tree for rustls), for comparison.
    let der = base64::engine::general_purpose::STANDARD
        .decode(keys.vendor.to_base64_pkcs8())
        .expect("the key's own encoding decodes");
    let ring_key = ring::rsa::KeyPair::from_pkcs8(&der).expect("ring reads the fixed key");
    let ring_rng = ring::rand::SystemRandom::new();
    let ring = time_per_op(1.0, || {
        let mut out = vec![0; ring_key.public().modulus_len()];
        ring_key
            .sign(
                &ring::signature::RSA_PKCS1_SHA256,
                &ring_rng,
                body,
                &mut out,
            )
            .expect("ring signs");
        std::hint::black_box(out);
    });
    let signature = keys.vendor.sign_message(body);
    let public = keys.vendor.verifying_key();
    let verify = time_per_op(1.0, || {
        std::hint::black_box(public.verify_message(body, &signature)).expect("verifies");
    });
    println!(
        "for comparison: ring {:.3} ms, rsa crate (the second oracle) {:.3} ms per signature; kit verify {:.3} ms",
        ring * 1e3,
        reference * 1e3,
        verify * 1e3
    );
    let best_kit = kit_times.iter().copied().fold(f64::INFINITY, f64::min);
    let median_kit = median(&mut kit_times);
    if ratios.is_empty() {
        println!(
            "kit signer: best {:.3} ms, median {:.3} ms; no openssl to compare with",
            best_kit * 1e3,
            median_kit * 1e3
        );
        return;
    }
    let best_openssl = openssl_times.iter().copied().fold(f64::INFINITY, f64::min);
    let median_ratio = median(&mut ratios);
    let best_ratio = best_kit / best_openssl;
    println!(
        "kit signer: best {:.3} ms, median {:.3} ms; openssl speed: best {:.3} ms",
        best_kit * 1e3,
        median_kit * 1e3,
        best_openssl * 1e3
    );
    println!(
        "ratio kit / openssl speed: best-to-best {best_ratio:.2}, median of rounds {median_ratio:.2} (target: at most 1.25) {}",
        if median_ratio <= 1.25 { "MET" } else { "NOT MET" }
    );
}
