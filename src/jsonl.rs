//! Streaming JSONL: records are read one line at a time, so memory stays bounded by the
//! longest line, and every error carries its 1-based line number.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;

use anyhow::{Context, Result};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// Calls `each(line_number, record)` for every non-blank line of `reader`. A line that is not
/// UTF-8 or not valid JSON for `T` is passed as `Err` with the reason; reading goes on.
/// Only an I/O failure of the reader itself stops the walk.
pub fn for_each_record<T, R, F>(reader: R, mut each: F) -> std::io::Result<()>
where
    T: DeserializeOwned,
    R: Read,
    F: FnMut(usize, Result<T, String>) -> Result<(), std::io::Error>,
{
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let mut buf = Vec::new();
    let mut line_number = 0;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf)? == 0 {
            return Ok(());
        }
        line_number += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record = match std::str::from_utf8(&buf) {
            Ok(text) => serde_json::from_str::<T>(text).map_err(|e| format!("invalid JSON: {e}")),
            Err(e) => Err(format!("not UTF-8 (invalid byte at column {})", e.valid_up_to() + 1)),
        };
        each(line_number, record)?;
    }
}

/// Opens `path` for reading, or standard input for `-`.
pub fn open_input(path: &Path) -> Result<Box<dyn Read>> {
    if path.as_os_str() == "-" {
        return Ok(Box::new(std::io::stdin()));
    }
    let file = File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
    Ok(Box::new(file))
}

/// Writes `record` as one JSON line.
pub fn write_record<T: Serialize, W: Write>(out: &mut W, record: &T) -> Result<()> {
    serde_json::to_writer(&mut *out, record).context("failed to serialize a record")?;
    out.write_all(b"\n").context("failed to write a record")?;
    Ok(())
}
