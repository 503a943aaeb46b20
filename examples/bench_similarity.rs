//! Times `srl::reward::difflib::ratio` over a pairs file, for comparison with CPython's difflib
//! (`scripts/bench-similarity.sh` runs both on the same file).
//!
//!     cargo run --release --example bench_similarity -- --pairs P.jsonl --autojunk false --repeat 3
//!
//! Only the ratio loop is timed (`std::time::Instant`); reading and parsing the file is not,
//! just as the Python side times only its loop. One untimed pass comes first (`--warmup`): it
//! sizes the per-thread buffers and warms the caches, so that a timed pass of a few tens of
//! milliseconds measures the steady state rather than page faults. Prints one JSON line: `{"impl", "autojunk",
//! "pairs", "seconds": [...], "checksum"}`; the checksum is the sum of the ratios in file order,
//! so it equals CPython's exactly when every ratio does.

use std::fs::File;
use std::hint::black_box;
use std::io::{BufRead, BufReader};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use srl::reward::difflib::ratio;

#[derive(Deserialize)]
struct Pair {
    a: String,
    b: String,
}

struct Args {
    pairs: String,
    autojunk: bool,
    repeat: usize,
    warmup: usize,
}

fn parse_args() -> Result<Args> {
    let mut args = Args { pairs: String::new(), autojunk: false, repeat: 3, warmup: 1 };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--pairs" => args.pairs = value,
            "--autojunk" => args.autojunk = value.parse().context("--autojunk true|false")?,
            "--repeat" => args.repeat = value.parse().context("--repeat N")?,
            "--warmup" => args.warmup = value.parse().context("--warmup N")?,
            _ => bail!("unknown flag {flag}"),
        }
    }
    if args.pairs.is_empty() {
        bail!("usage: bench_similarity --pairs FILE [--autojunk true|false] [--repeat N] [--warmup N]");
    }
    Ok(args)
}

fn load(path: &str) -> Result<Vec<Pair>> {
    let reader = BufReader::new(File::open(path).with_context(|| format!("opening {path}"))?);
    let mut pairs = Vec::new();
    for (index, line) in reader.lines().enumerate() {
        let line = line?;
        if !line.trim().is_empty() {
            pairs.push(serde_json::from_str(&line).with_context(|| format!("line {}", index + 1))?);
        }
    }
    Ok(pairs)
}

fn run() -> Result<()> {
    let args = parse_args()?;
    let pairs = load(&args.pairs)?;
    for _ in 0..args.warmup {
        black_box(pairs.iter().map(|pair| ratio(&pair.a, &pair.b, args.autojunk)).sum::<f64>());
    }
    let mut seconds = Vec::with_capacity(args.repeat);
    let mut checksum = 0.0;
    for _ in 0..args.repeat {
        checksum = 0.0;
        let start = Instant::now();
        for pair in &pairs {
            checksum += ratio(black_box(&pair.a), black_box(&pair.b), args.autojunk);
        }
        seconds.push(start.elapsed().as_secs_f64());
        checksum = black_box(checksum);
    }
    let report = serde_json::json!({
        "impl": "rust", "autojunk": args.autojunk, "pairs": pairs.len(), "seconds": seconds, "checksum": checksum,
    });
    println!("{report}");
    Ok(())
}

fn main() -> ExitCode {
    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
