//! Record streams as Hugging Face datasets publish them: parquet files (one row = one record)
//! and JSONL, plain or compressed (`.jsonl.gz`, `.jsonl.zst`). Every record reaches the caller
//! as a `serde_json::Value`, so importers sniff and parse a parquet row exactly as they would
//! the same record on a JSONL line.
//!
//! Parquet is read through the `parquet` crate's row API, one row group at a time and a few
//! rows per column batch, so memory is bounded by a row group's pages and a handful of rows,
//! never by the file. Structs become objects, lists arrays, maps objects; a string column stays
//! a string even when it holds JSON: [`decode_json_columns`] is the one place that decodes the
//! columns importers read as structure. [`for_each_batch`] decodes on a thread of its own, so
//! that decompressing and decoding overlap with importing. Deliberately not used: arrow (a
//! large dependency that buys columnar batches the importers would only turn back into rows).

use std::fs::File;
use std::io::Read;
use std::path::Path;

use anyhow::{Context, Result};
use parquet::file::reader::{FileReader, SerializedFileReader};
use parquet::record::reader::TreeBuilder;
use parquet::record::{Field, Row};
use serde_json::{Map, Number, Value};

/// Rows decoded per column batch. The row API buffers this many values of every leaf column;
/// with a JSON-string column of whole trajectories (hundreds of KB each), its default of 1,024
/// would hold hundreds of MB.
const ROWS_PER_BATCH: usize = 32;

/// Top-level fields that importers read as structure (chat messages, steps, event histories).
/// Datasets often store them as JSON text in a string column (SWE-smith's `messages`).
const STRUCTURED_KEYS: [&str; 3] = ["messages", "trajectory", "history"];

/// How a file holds its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    Parquet,
    Jsonl(Compression),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

/// The layout of a record stream, judged by the file name; `None` for whole-file documents
/// (JSON, YAML) and for anything else.
pub fn layout(path: &Path) -> Option<Layout> {
    let name = path.file_name()?.to_str()?;
    let layout = if name.ends_with(".parquet") {
        Layout::Parquet
    } else if name.ends_with(".jsonl") {
        Layout::Jsonl(Compression::None)
    } else if name.ends_with(".jsonl.gz") {
        Layout::Jsonl(Compression::Gzip)
    } else if name.ends_with(".jsonl.zst") || name.ends_with(".jsonl.zstd") {
        Layout::Jsonl(Compression::Zstd)
    } else {
        return None;
    };
    Some(layout)
}

/// The file name without the suffixes of its layout (`train-00000-of-00002.parquet` →
/// `train-00000-of-00002`, `runs.jsonl.gz` → `runs`).
pub fn strip_layout_suffix(name: &str) -> &str {
    for suffix in [".parquet", ".jsonl.gz", ".jsonl.zst", ".jsonl.zstd"] {
        if let Some(stem) = name.strip_suffix(suffix) {
            return stem;
        }
    }
    name
}

/// What [`for_each_record`] hands over: the record's 1-based number (the JSONL line, the
/// parquet row counted across row groups; `None` for the file as a whole) and the record or
/// why it cannot be decoded.
pub type Each<'a> = dyn FnMut(Option<usize>, Result<Value, String>) -> Result<()> + 'a;

/// Calls `each` for every record of `path`. A record that cannot be decoded is passed as `Err`
/// with the reason and reading goes on; a parquet file whose footer cannot be read, or a row
/// group that cannot be decoded, ends the file after one such `Err`, since the rows after it
/// cannot be told apart. Only an I/O failure or an error returned by `each` is an `Err` here.
pub fn for_each_record(path: &Path, layout: Layout, each: &mut Each<'_>) -> Result<()> {
    match layout {
        Layout::Parquet => for_each_row(path, each),
        Layout::Jsonl(compression) => {
            let reader = open_jsonl(path, compression)?;
            let mut failure = None;
            crate::jsonl::for_each_record::<Value, _, _>(reader, |line, record| {
                if failure.is_none() {
                    failure = each(Some(line), record).err();
                }
                Ok(())
            })
            .with_context(|| format!("failed to read {}", path.display()))?;
            failure.map_or(Ok(()), Err)
        }
    }
}

/// A batch of records as [`for_each_record`] hands them over.
pub type Batch = Vec<(Option<usize>, Result<Value, String>)>;

/// Batches of (up to) `size` records of `path`, decoded on a thread of their own while the
/// caller works on the previous batch, so that decompressing and decoding overlap with
/// importing. At most two batches wait. `each` returns whether to go on; after `false` the
/// rest of the file is not read.
pub fn for_each_batch(
    path: &Path,
    layout: Layout,
    size: usize,
    each: &mut dyn FnMut(Batch) -> Result<bool>,
) -> Result<()> {
    let (sender, receiver) = std::sync::mpsc::sync_channel::<Batch>(2);
    std::thread::scope(|scope| {
        let reader = scope.spawn(move || {
            let mut batch = Vec::with_capacity(size);
            for_each_record(path, layout, &mut |number, record| {
                batch.push((number, record));
                if batch.len() == size {
                    // The receiver is gone only when the caller stopped early.
                    sender.send(std::mem::replace(&mut batch, Vec::with_capacity(size))).map_err(|_| Stopped)?;
                }
                Ok(())
            })?;
            if !batch.is_empty() {
                sender.send(batch).map_err(|_| Stopped)?;
            }
            Ok::<(), anyhow::Error>(())
        });
        let mut consumed = Ok(true);
        for batch in receiver.iter() {
            consumed = each(batch);
            if !matches!(consumed, Ok(true)) {
                break;
            }
        }
        // Dropping the receiver unblocks a reader waiting to send, which then stops.
        drop(receiver);
        let read = reader.join().map_err(|_| anyhow::anyhow!("the reader of {} failed", path.display()))?;
        match (consumed?, read) {
            (_, Ok(())) => Ok(()),
            (false, Err(e)) if e.is::<Stopped>() => Ok(()),
            (_, Err(e)) => Err(e),
        }
    })
}

/// The reader's own error when the caller stopped taking batches.
#[derive(Debug)]
struct Stopped;

impl std::fmt::Display for Stopped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stopped reading: the caller took no more records")
    }
}

impl std::error::Error for Stopped {}

/// A reader of the decompressed JSONL text.
pub fn open_jsonl(path: &Path, compression: Compression) -> Result<Box<dyn Read>> {
    let file = crate::jsonl::open_input(path)?;
    Ok(match compression {
        Compression::None => file,
        // Multi-member, so that files written by parallel gzip tools read whole.
        Compression::Gzip => Box::new(flate2::read::MultiGzDecoder::new(file)),
        Compression::Zstd => Box::new(
            zstd::stream::read::Decoder::new(file)
                .with_context(|| format!("failed to start decompressing {}", path.display()))?,
        ),
    })
}

fn for_each_row(path: &Path, each: &mut Each<'_>) -> Result<()> {
    let file = File::open(path).with_context(|| format!("failed to open {}", path.display()))?;
    let reader = match guarded(|| SerializedFileReader::new(file)) {
        Ok(reader) => reader,
        Err(e) => return each(None, Err(format!("not a readable parquet file: {e}"))),
    };
    let schema = reader.metadata().file_metadata().schema_descr_ptr();
    let builder = TreeBuilder::new().with_batch_size(ROWS_PER_BATCH);
    let mut number = 0;
    for group in 0..reader.num_row_groups() {
        let rows = guarded(|| reader.get_row_group(group).and_then(|g| builder.as_iter(schema.clone(), &*g)));
        let mut rows = match rows {
            Ok(rows) => rows,
            Err(e) => return each(Some(number + 1), Err(format!("cannot read row group {group}: {e}"))),
        };
        while let Some(row) = guarded(|| rows.next().transpose()).transpose() {
            number += 1;
            match row {
                Ok(row) => each(Some(number), Ok(row_value(row)))?,
                Err(e) => return each(Some(number), Err(format!("cannot decode row group {group}: {e}"))),
            }
        }
    }
    Ok(())
}

/// Runs one call into the parquet reader. The reader panics on some corrupt files (an
/// `unwrap` in its footer decoding, found by mutating files byte by byte); such a panic says
/// the file is bad, so it becomes that file's error like any other decoding failure.
fn guarded<T>(read: impl FnOnce() -> parquet::errors::Result<T>) -> Result<T, String> {
    match std::panic::catch_unwind(std::panic::AssertUnwindSafe(read)) {
        Ok(result) => result.map_err(|e| e.to_string()),
        Err(_) => Err("the parquet reader gave up on it (a corrupt file)".to_string()),
    }
}

/// A parquet row as a JSON object, column names as keys.
pub fn row_value(row: Row) -> Value {
    let map: Map<String, Value> =
        row.into_columns().into_iter().map(|(name, field)| (name, owned_value(field))).collect();
    Value::Object(map)
}

/// Top-level columns are taken by value, so the largest strings (whole trajectories in one
/// column) are moved, not copied.
fn owned_value(field: Field) -> Value {
    match field {
        Field::Str(text) => Value::String(text),
        Field::Group(row) => row_value(row),
        other => field_value(&other),
    }
}

fn field_value(field: &Field) -> Value {
    match field {
        Field::Null => Value::Null,
        Field::Bool(b) => Value::Bool(*b),
        Field::Byte(n) => Value::from(*n),
        Field::Short(n) => Value::from(*n),
        Field::Int(n) => Value::from(*n),
        Field::Long(n) => Value::from(*n),
        Field::UByte(n) => Value::from(*n),
        Field::UShort(n) => Value::from(*n),
        Field::UInt(n) => Value::from(*n),
        Field::ULong(n) => Value::from(*n),
        Field::Float16(n) => float(f64::from(*n)),
        Field::Float(n) => float(f64::from(*n)),
        Field::Double(n) => float(*n),
        Field::Str(text) => Value::String(text.clone()),
        // A binary column without a string annotation: text when it is UTF-8, its bytes otherwise.
        Field::Bytes(bytes) => match std::str::from_utf8(bytes.data()) {
            Ok(text) => Value::String(text.to_string()),
            Err(_) => Value::Array(bytes.data().iter().map(|b| Value::from(*b)).collect()),
        },
        Field::Decimal(_) => Value::String(field.to_string()),
        // Dates and times as their raw counts (days, or milli/microseconds since the epoch or
        // midnight): parquet's own formatting panics on out-of-range values.
        Field::Date(n) | Field::TimeMillis(n) => Value::from(*n),
        Field::TimeMicros(n) | Field::TimestampMillis(n) | Field::TimestampMicros(n) => Value::from(*n),
        Field::Group(row) => {
            Value::Object(row.get_column_iter().map(|(name, field)| (name.clone(), field_value(field))).collect())
        }
        Field::ListInternal(list) => Value::Array(list.elements().iter().map(field_value).collect()),
        Field::MapInternal(map) => Value::Object(
            map.entries()
                .iter()
                .map(|(key, value)| {
                    let key = match key {
                        Field::Str(text) => text.clone(),
                        other => other.to_string(),
                    };
                    (key, field_value(value))
                })
                .collect(),
        ),
    }
}

/// JSON has no NaN or infinity; such a value becomes `null`.
fn float(n: f64) -> Value {
    Number::from_f64(n).map_or(Value::Null, Value::Number)
}

/// Decodes the top-level [`STRUCTURED_KEYS`] fields that hold JSON text (a string starting
/// with `[` or `{` that parses), in place. Anything else, a string that is not JSON included,
/// is left as it is for the importer to judge.
pub fn decode_json_columns(record: &mut Value) {
    let Some(object) = record.as_object_mut() else { return };
    for key in STRUCTURED_KEYS {
        let Some(Value::String(text)) = object.get(key) else { continue };
        if !text.trim_start().starts_with(['[', '{']) {
            continue;
        }
        if let Ok(decoded) = serde_json::from_str::<Value>(text) {
            object.insert(key.to_string(), decoded);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use serde_json::json;

    use super::*;

    #[test]
    fn layouts_by_file_name() {
        let check = |name: &str| layout(Path::new(name));
        assert_eq!(check("data/train-00000-of-00012.parquet"), Some(Layout::Parquet));
        assert_eq!(check("a.jsonl"), Some(Layout::Jsonl(Compression::None)));
        assert_eq!(check("a.jsonl.gz"), Some(Layout::Jsonl(Compression::Gzip)));
        assert_eq!(check("a.jsonl.zst"), Some(Layout::Jsonl(Compression::Zstd)));
        assert_eq!(check("a.json.gz"), None);
        assert_eq!(check("a.traj"), None);
        assert_eq!(strip_layout_suffix("train-00000-of-00012.parquet"), "train-00000-of-00012");
        assert_eq!(strip_layout_suffix("runs.jsonl.zst"), "runs");
    }

    #[test]
    fn json_string_columns_are_decoded_others_kept() {
        let mut record = json!({
            "messages": "[{\"role\": \"user\", \"content\": \"hi\"}]",
            "trajectory": "[not json",
            "history": "plain text",
            "patch": "[1, 2]",
        });
        decode_json_columns(&mut record);
        assert_eq!(record["messages"], json!([{"role": "user", "content": "hi"}]));
        assert_eq!(record["trajectory"], "[not json");
        assert_eq!(record["history"], "plain text");
        assert_eq!(record["patch"], "[1, 2]", "only the structured keys are decoded");
        let mut list = json!(["[1]"]);
        decode_json_columns(&mut list);
        assert_eq!(list, json!(["[1]"]));
    }

    #[test]
    fn fields_become_json() {
        assert_eq!(field_value(&Field::Double(f64::NAN)), Value::Null);
        assert_eq!(field_value(&Field::Long(-3)), json!(-3));
        assert_eq!(field_value(&Field::TimestampMillis(i64::MAX)), json!(i64::MAX));
        assert_eq!(field_value(&Field::Str("x".into())), json!("x"));
    }
}
