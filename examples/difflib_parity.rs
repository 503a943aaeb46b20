//! Parity check of `srl::reward::difflib::ratio` against CPython's `SequenceMatcher.ratio()`.
//!
//! Reads the JSONL written by `scripts/difflib_pairs.py generate` (`{"a", "b", "ratio_autojunk",
//! "ratio_no_autojunk"}` per line) and reports, for each autojunk setting, the number of pairs,
//! the largest |Rust - CPython| and the number of results that are not bit-identical. Exits 1 on
//! any mismatch.
//!
//!     cargo run --release --example difflib_parity -- /tmp/pairs.jsonl
//!
//! The expected floats are cut out of the line text and parsed with `str::parse::<f64>`, which is
//! correctly rounded: serde_json without its `float_roundtrip` feature may land one ulp off on
//! 17-digit decimals, which would show up here as a false mismatch.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::process::ExitCode;

use anyhow::{anyhow, bail, Context, Result};
use serde::Deserialize;
use srl::reward::difflib::ratio;

#[derive(Deserialize)]
struct Pair {
    a: String,
    b: String,
}

/// Running comparison for one autojunk setting.
#[derive(Default)]
struct Tally {
    pairs: usize,
    max_abs_diff: f64,
    mismatches: usize,
}

impl Tally {
    fn add(&mut self, got: f64, want: f64) -> bool {
        self.pairs += 1;
        self.max_abs_diff = self.max_abs_diff.max((got - want).abs());
        let differs = got.to_bits() != want.to_bits();
        self.mismatches += usize::from(differs);
        differs
    }
}

/// The float that follows `"key":` in a line. The last occurrence is the field: inside a JSON
/// string the quote before the colon would be escaped, so the pattern cannot match there.
fn float_field(line: &str, key: &str) -> Option<f64> {
    let pattern = format!("\"{key}\":");
    let rest = line[line.rfind(&pattern)? + pattern.len()..].trim_start();
    let end = rest.find([',', '}'])?;
    rest[..end].trim().parse().ok()
}

fn run(path: &str) -> Result<bool> {
    let reader = BufReader::new(File::open(path).with_context(|| format!("opening {path}"))?);
    let (mut with, mut without) = (Tally::default(), Tally::default());
    let mut shown = 0;
    for (index, line) in reader.lines().enumerate() {
        let line = line.with_context(|| format!("reading line {}", index + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let pair: Pair = serde_json::from_str(&line).with_context(|| format!("line {}", index + 1))?;
        for (autojunk, key, tally) in [(true, "ratio_autojunk", &mut with), (false, "ratio_no_autojunk", &mut without)]
        {
            let want = float_field(&line, key).ok_or_else(|| anyhow!("line {}: no {key}", index + 1))?;
            let got = ratio(&pair.a, &pair.b, autojunk);
            if tally.add(got, want) && shown < 10 {
                shown += 1;
                eprintln!("line {}: autojunk={autojunk} rust={got:?} cpython={want:?}", index + 1);
            }
        }
    }
    if with.pairs == 0 {
        bail!("{path} holds no pairs");
    }
    for (name, tally) in [("autojunk=True", &with), ("autojunk=False", &without)] {
        println!("{name}: pairs={} max_abs_diff={:e} mismatches={}", tally.pairs, tally.max_abs_diff, tally.mismatches);
    }
    Ok(with.mismatches + without.mismatches == 0)
}

fn main() -> ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: difflib_parity PAIRS.jsonl");
        return ExitCode::from(2);
    };
    match run(&path) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
