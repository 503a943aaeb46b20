//! Placeholder: being written.

use serde_json::Value;

use super::Parsed;

pub fn sniff(_record: &Value) -> bool {
    false
}

pub fn parse(_record: &Value) -> Result<Parsed, String> {
    Err("not written yet".to_string())
}
