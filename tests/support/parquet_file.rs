//! Writing small parquet files in tests, with the exact schemas that published datasets
//! declare, from rows given as JSON. The rows are shredded into parquet's repetition and
//! definition levels here (Dremel's striping, for the schemas the tests use: optional and
//! required fields, structs, and three-level `LIST`s as pyarrow writes them), so no arrow is
//! needed and no binary file is committed.

use std::fs::File;
use std::path::Path;
use std::sync::Arc;

use parquet::basic::{Compression, ConvertedType, Repetition};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use parquet::schema::types::{Type, TypePtr};
use serde_json::Value;

/// Writes `rows` to `path` under `schema` (parquet's message syntax), `rows_per_group` rows to
/// a row group.
pub fn write(path: &Path, schema: &str, rows: &[Value], compression: Compression, rows_per_group: usize) {
    let schema = Arc::new(parse_message_type(schema).expect("test schema parses"));
    let props = Arc::new(WriterProperties::builder().set_compression(compression).build());
    let file = File::create(path).expect("create parquet file");
    let mut writer = SerializedFileWriter::new(file, schema.clone(), props).expect("parquet writer");
    for group in rows.chunks(rows_per_group.max(1)) {
        let mut columns = Vec::new();
        for field in schema.get_fields() {
            let mut leaves = Vec::new();
            leaf_count(field, &mut leaves);
            columns.extend(leaves);
        }
        for row in group {
            let mut leaf = 0;
            for field in schema.get_fields() {
                shred(
                    field,
                    row.get(field.name()),
                    Levels { def: 0, rep: 0, depth: 0 },
                    false,
                    &mut columns,
                    &mut leaf,
                );
            }
        }
        let mut row_group = writer.next_row_group().expect("row group");
        let mut idx = 0;
        while let Some(mut column) = row_group.next_column().expect("next column") {
            let data = &columns[idx];
            let (def, rep) = (Some(&data.def[..]), Some(&data.rep[..]));
            match column.untyped() {
                ColumnWriter::ByteArrayColumnWriter(w) => {
                    let values: Vec<ByteArray> =
                        data.values.iter().map(|v| ByteArray::from(text(v).as_str())).collect();
                    w.write_batch(&values, def, rep)
                }
                ColumnWriter::BoolColumnWriter(w) => {
                    let values: Vec<bool> = data.values.iter().map(|v| v.as_bool().expect("a boolean")).collect();
                    w.write_batch(&values, def, rep)
                }
                ColumnWriter::Int64ColumnWriter(w) => {
                    let values: Vec<i64> = data.values.iter().map(|v| v.as_i64().expect("an integer")).collect();
                    w.write_batch(&values, def, rep)
                }
                ColumnWriter::Int32ColumnWriter(w) => {
                    let values: Vec<i32> = data.values.iter().map(|v| v.as_i64().expect("an integer") as i32).collect();
                    w.write_batch(&values, def, rep)
                }
                ColumnWriter::DoubleColumnWriter(w) => {
                    let values: Vec<f64> = data.values.iter().map(|v| v.as_f64().expect("a number")).collect();
                    w.write_batch(&values, def, rep)
                }
                _ => panic!("column type not supported by the test writer"),
            }
            .expect("write column");
            column.close().expect("close column");
            idx += 1;
        }
        row_group.close().expect("close row group");
    }
    writer.close().expect("close parquet file");
}

/// A string column's value: strings as they are, anything else as its JSON text.
fn text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

#[derive(Default)]
struct Column {
    values: Vec<Value>,
    def: Vec<i16>,
    rep: Vec<i16>,
}

#[derive(Clone, Copy)]
struct Levels {
    def: i16,
    rep: i16,
    /// How many repeated fields enclose this one.
    depth: i16,
}

fn leaf_count(ty: &TypePtr, out: &mut Vec<Column>) {
    if ty.is_primitive() {
        out.push(Column::default());
    } else {
        for field in ty.get_fields() {
            leaf_count(field, out);
        }
    }
}

/// Records `value` (absent or null: a null) for every leaf under `ty`, from `*leaf` on.
/// `list_wrapper`: `ty` is the repeated group of a `LIST`, whose items are its element's values.
fn shred(
    ty: &TypePtr,
    value: Option<&Value>,
    at: Levels,
    list_wrapper: bool,
    columns: &mut [Column],
    leaf: &mut usize,
) {
    let value = value.filter(|v| !v.is_null());
    match ty.get_basic_info().repetition() {
        Repetition::REPEATED => {
            let items = value.and_then(Value::as_array).filter(|items| !items.is_empty());
            let Some(items) = items else { return nulls(ty, at, columns, leaf) };
            let start = *leaf;
            for (n, item) in items.iter().enumerate() {
                *leaf = start;
                let rep = if n == 0 { at.rep } else { at.depth + 1 };
                let inner = Levels { def: at.def + 1, rep, depth: at.depth + 1 };
                body(ty, item, inner, list_wrapper, columns, leaf);
            }
        }
        repetition => {
            let Some(value) = value else {
                assert!(repetition == Repetition::OPTIONAL, "required field {} is missing", ty.name());
                return nulls(ty, at, columns, leaf);
            };
            let def = if repetition == Repetition::OPTIONAL { at.def + 1 } else { at.def };
            body(ty, value, Levels { def, ..at }, false, columns, leaf);
        }
    }
}

fn body(ty: &TypePtr, value: &Value, at: Levels, list_wrapper: bool, columns: &mut [Column], leaf: &mut usize) {
    if ty.is_primitive() {
        let column = &mut columns[*leaf];
        column.values.push(value.clone());
        column.def.push(at.def);
        column.rep.push(at.rep);
        *leaf += 1;
        return;
    }
    let fields = ty.get_fields();
    if list_wrapper {
        return shred(&fields[0], Some(value), at, false, columns, leaf);
    }
    if is_list(ty) {
        return shred(&fields[0], Some(value), at, true, columns, leaf);
    }
    for field in fields {
        shred(field, value.get(field.name()), at, false, columns, leaf);
    }
}

fn is_list(ty: &Type) -> bool {
    ty.get_basic_info().converted_type() == ConvertedType::LIST
}

fn nulls(ty: &TypePtr, at: Levels, columns: &mut [Column], leaf: &mut usize) {
    if ty.is_primitive() {
        columns[*leaf].def.push(at.def);
        columns[*leaf].rep.push(at.rep);
        *leaf += 1;
    } else {
        for field in ty.get_fields() {
            nulls(field, at, columns, leaf);
        }
    }
}
