//! Whether a trajectory solved its task, as the dataset that published it says: the outcome
//! field some datasets keep beside the trajectory (SWE-smith's and nvidia's `resolved`, nebius'
//! `target`). `srl steps --only-resolved` keeps the trajectories that solved their task, as the
//! SRL paper did.
//!
//! Deliberately not done: judging the outcome ourselves (from a report, an exit status or the
//! patch). A trajectory whose record has no such field has no outcome, which is not a failure.

use serde_json::Value;

/// The record's own outcome: `resolved` as a boolean (SWE-smith) or as 1 / 0 (nvidia's
/// `int32` column, whose other values mean "not evaluated"), else `target` as a boolean
/// (nebius). A `target` of another type is something else (a string target is no outcome).
pub fn resolved(record: &Value) -> Option<bool> {
    match record.get("resolved") {
        Some(Value::Bool(b)) => return Some(*b),
        Some(Value::Number(n)) => {
            return match n.as_i64() {
                Some(1) => Some(true),
                Some(0) => Some(false),
                _ => None,
            }
        }
        _ => {}
    }
    record.get("target").and_then(Value::as_bool)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn outcome_fields() {
        let check = |record: Value| resolved(&record);
        assert_eq!(check(json!({"resolved": true, "target": false})), Some(true));
        assert_eq!(check(json!({"resolved": false})), Some(false));
        assert_eq!(check(json!({"resolved": 1})), Some(true));
        assert_eq!(check(json!({"resolved": 0})), Some(false));
        assert_eq!(check(json!({"resolved": -1, "target": true})), None, "-1: not evaluated");
        assert_eq!(check(json!({"target": true})), Some(true));
        assert_eq!(check(json!({"target": "x = 1"})), None);
        assert_eq!(check(json!({"resolved": null, "target": false})), Some(false));
        assert_eq!(check(json!([true])), None);
    }
}
