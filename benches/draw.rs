//! The cost of drawing fuzz cases alone (no gateway, no client): the main thread's share of
//! `alipay-cancel-kit fuzz`, which draws every case before a job runs it.
//!
//! `cargo bench --bench draw` (optionally `-- CASES ROUNDS`, default 3000 cases of seed 42,
//! 7 rounds); prints each round's time per case and the rounds' range and median.

use std::time::Instant;

use alipay_cancel_kit::fuzz::{self, Timing};
use proptest::strategy::{Strategy, ValueTree};

fn main() {
    let mut args = std::env::args().skip(1).filter(|a| !a.starts_with('-'));
    let cases: u32 = args.next().and_then(|a| a.parse().ok()).unwrap_or(3000);
    let rounds: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(7);
    let strategy = fuzz::scenario(Timing::default());
    let mut per_case = Vec::new();
    for round in 1..=rounds {
        let mut runner = fuzz::runner(42, 0);
        let start = Instant::now();
        let mut bytes = 0usize;
        for _ in 0..cases {
            let case = strategy.new_tree(&mut runner).expect("drawn").current();
            bytes += case.answers.len();
        }
        let us = start.elapsed().as_secs_f64() * 1e6 / f64::from(cases);
        println!("round {round}: {us:.1} µs per case ({cases} cases, {bytes} answers)");
        per_case.push(us);
    }
    per_case.sort_by(f64::total_cmp);
    println!(
        "drawing: {:.1} to {:.1} µs per case, median {:.1}",
        per_case[0],
        per_case[per_case.len() - 1],
        per_case[per_case.len() / 2]
    );
}
