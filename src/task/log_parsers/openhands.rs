//! OpenHands evaluation logs (E3, `output.swebench_eval.logs/instance_<id>.log`): python-logging
//! lines (`2024-12-04 15:10:58,766 - INFO - …`) recording the patch application
//! (`APPLY_PATCH_PASS` / `APPLY_PATCH_FAIL`), the evaluation run and, when it got that far, the
//! report as a Python repr (`[<id>] report: {'patch_is_None': False, …}`) followed by
//! `Result for <id>: resolved: True|False`.
//!
//! OpenHands writes the test output to a separate `test_output.txt`, so these logs normally
//! hold no test results; [`super::layout::extract`] says `Missing` for them. What can be read
//! here is the report OpenHands computed, converted from its Python repr to JSON (the E1 shape),
//! and the final verdict line. The repr reader handles the literals a report contains (dicts,
//! lists, tuples, strings, numbers, `True`/`False`/`None`) and nothing else; it is not a Python
//! parser.

use serde_json::{Map, Number, Value};

/// Python literals nest no deeper than this in a report; deeper input is refused rather than
/// risking the stack on a hostile log.
const MAX_DEPTH: usize = 64;

/// Whether `log` is an OpenHands evaluation log: its first non-blank line has a logging prefix.
pub fn is_eval_log(log: &str) -> bool {
    log.lines().find(|line| !line.trim().is_empty()).is_some_and(|line| logging_prefix_len(line).is_some())
}

/// `line` without its `YYYY-MM-DD HH:MM:SS,mmm - LEVEL - ` prefix (unchanged when it has none).
pub fn strip_logging_prefix(line: &str) -> &str {
    logging_prefix_len(line).map_or(line, |len| &line[len..])
}

fn logging_prefix_len(line: &str) -> Option<usize> {
    const SHAPE: &[u8] = b"dddd-dd-dd dd:dd:dd,ddd - ";
    let bytes = line.as_bytes();
    if bytes.len() < SHAPE.len() {
        return None;
    }
    let fits = SHAPE.iter().zip(bytes).all(|(s, b)| if *s == b'd' { b.is_ascii_digit() } else { s == b });
    if !fits {
        return None;
    }
    let rest = &line[SHAPE.len()..];
    let level_len = rest.find(" - ")?;
    let level = &rest[..level_len];
    (!level.is_empty() && level.chars().all(|c| c.is_ascii_uppercase())).then_some(SHAPE.len() + level_len + 3)
}

/// The report logged as `[<id>] report: {…}`, as JSON; `None` when the log has no report line
/// (the evaluation stopped before grading), `Err` when the repr cannot be read.
pub fn embedded_report(log: &str) -> Option<Result<Value, String>> {
    log.lines().map(strip_logging_prefix).find_map(|line| {
        let (_, repr) = line.split_once("] report: ")?;
        Some(python_literal(repr).map_err(|e| format!("report line: {e}")))
    })
}

/// The final `Result for <id>: resolved: True|False` line as `(id, resolved)`.
pub fn result_line(log: &str) -> Option<(String, bool)> {
    log.lines().map(strip_logging_prefix).find_map(|line| {
        let (id, verdict) = line.strip_prefix("Result for ")?.split_once(": resolved: ")?;
        let resolved = match verdict.trim() {
            "True" => true,
            "False" => false,
            _ => return None,
        };
        Some((id.to_string(), resolved))
    })
}

/// Converts one Python literal (the whole of `text`, surrounding whitespace aside) to JSON.
pub fn python_literal(text: &str) -> Result<Value, String> {
    let mut reader = Reader { text, pos: 0, depth: 0 };
    let value = reader.value()?;
    reader.skip_whitespace();
    if reader.pos != text.len() {
        return Err(format!("unexpected text after the literal at byte {}", reader.pos));
    }
    Ok(value)
}

struct Reader<'a> {
    text: &'a str,
    pos: usize,
    depth: usize,
}

impl Reader<'_> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    fn error(&self, what: &str) -> String {
        format!("expected {what} at byte {}", self.pos)
    }

    fn value(&mut self) -> Result<Value, String> {
        self.skip_whitespace();
        match self.peek() {
            Some('{') => self.nested(Reader::dict),
            Some('[') => self.nested(|r| r.sequence(']')),
            Some('(') => self.nested(|r| r.sequence(')')),
            Some('\'' | '"') => self.string().map(Value::String),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(_) => self.word(),
            None => Err(self.error("a value")),
        }
    }

    fn nested(&mut self, read: impl FnOnce(&mut Self) -> Result<Value, String>) -> Result<Value, String> {
        if self.depth >= MAX_DEPTH {
            return Err(format!("literal nested deeper than {MAX_DEPTH} at byte {}", self.pos));
        }
        self.depth += 1;
        self.bump();
        let value = read(self);
        self.depth -= 1;
        value
    }

    /// After `{`: `key: value` pairs up to `}`. Non-string keys keep their JSON text.
    fn dict(&mut self) -> Result<Value, String> {
        let mut map = Map::new();
        loop {
            self.skip_whitespace();
            if self.peek() == Some('}') {
                self.bump();
                return Ok(Value::Object(map));
            }
            let key = match self.value()? {
                Value::String(s) => s,
                other => other.to_string(),
            };
            self.skip_whitespace();
            if self.peek() != Some(':') {
                return Err(self.error("':'"));
            }
            self.bump();
            map.insert(key, self.value()?);
            self.separator('}')?;
        }
    }

    /// After `[` or `(`: values up to `close`.
    fn sequence(&mut self, close: char) -> Result<Value, String> {
        let mut items = Vec::new();
        loop {
            self.skip_whitespace();
            if self.peek() == Some(close) {
                self.bump();
                return Ok(Value::Array(items));
            }
            items.push(self.value()?);
            self.separator(close)?;
        }
    }

    /// A `,` (consumed) or the closing bracket (left for the caller's loop).
    fn separator(&mut self, close: char) -> Result<(), String> {
        self.skip_whitespace();
        match self.peek() {
            Some(',') => {
                self.bump();
                Ok(())
            }
            Some(c) if c == close => Ok(()),
            _ => Err(self.error(&format!("',' or '{close}'"))),
        }
    }

    fn string(&mut self) -> Result<String, String> {
        let quote = self.bump().ok_or_else(|| self.error("a string"))?;
        let mut out = String::new();
        loop {
            match self.bump() {
                None => return Err(self.error("the end of the string")),
                Some(c) if c == quote => return Ok(out),
                Some('\\') => out.push(self.escape()?),
                Some(c) => out.push(c),
            }
        }
    }

    fn escape(&mut self) -> Result<char, String> {
        let c = self.bump().ok_or_else(|| self.error("an escape"))?;
        let hex_digits = match c {
            'n' => return Ok('\n'),
            't' => return Ok('\t'),
            'r' => return Ok('\r'),
            '0' => return Ok('\0'),
            'a' => return Ok('\u{7}'),
            'b' => return Ok('\u{8}'),
            'f' => return Ok('\u{c}'),
            'v' => return Ok('\u{b}'),
            'x' => 2,
            'u' => 4,
            'U' => 8,
            other => return Ok(other),
        };
        let start = self.pos;
        let digits = self.text.get(start..start + hex_digits).ok_or_else(|| self.error("hex digits"))?;
        let code = u32::from_str_radix(digits, 16).map_err(|_| self.error("hex digits"))?;
        self.pos += hex_digits;
        char::from_u32(code).ok_or_else(|| format!("escape \\{c}{digits} is not a character"))
    }

    fn number(&mut self) -> Result<Value, String> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E')) {
            self.bump();
        }
        let text = &self.text[start..self.pos];
        if let Ok(n) = text.parse::<i64>() {
            return Ok(Value::Number(n.into()));
        }
        text.parse::<f64>()
            .ok()
            .and_then(Number::from_f64)
            .map(Value::Number)
            .ok_or_else(|| format!("invalid number {text:?} at byte {start}"))
    }

    fn word(&mut self) -> Result<Value, String> {
        let start = self.pos;
        while self.peek().is_some_and(|c| c.is_alphanumeric() || c == '_') {
            self.bump();
        }
        match &self.text[start..self.pos] {
            "True" => Ok(Value::Bool(true)),
            "False" => Ok(Value::Bool(false)),
            "None" => Ok(Value::Null),
            _ => Err(format!("expected a value at byte {start}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(repr: &str, expect: &str) {
        let got = match python_literal(repr) {
            Ok(value) => value.to_string(),
            Err(e) => format!("error: {e}"),
        };
        assert_eq!(got, expect, "{repr}");
    }

    #[test]
    fn report_literals() {
        check(
            "{'patch_is_None': False, 'resolved': True, 'x': None, 'n': -3, 'f': 1.5, 't': ('a', \"b'c\")}",
            r#"{"f":1.5,"n":-3,"patch_is_None":false,"resolved":true,"t":["a","b'c"],"x":null}"#,
        );
        check(
            "{'tests': {'success': [], 'failure': ['t (m.C)']},}",
            r#"{"tests":{"failure":["t (m.C)"],"success":[]}}"#,
        );
    }

    #[test]
    fn string_escapes() {
        check(r"'it\'s \\ \n \x41 \u00e9 \U0001F600'", r#""it's \\ \n A é 😀""#);
    }

    #[test]
    fn malformed_literals_are_errors() {
        check("{'a' 1}", "error: expected ':' at byte 5");
        check("['a'", "error: expected ',' or ']' at byte 4");
        check("'abc", "error: expected the end of the string at byte 4");
        check("nan", "error: expected a value at byte 0");
        check("[1] x", "error: unexpected text after the literal at byte 4");
        check(r"'\x4'", "error: expected hex digits at byte 3");
        check(&"[".repeat(100), "error: literal nested deeper than 64 at byte 64");
    }

    #[test]
    fn log_lines() {
        let log = "2024-12-04 15:13:21,605 - INFO - [a__b-1] report: {'resolved': False}\n\
                   Result for a__b-1: resolved: False\n";
        assert!(is_eval_log(log));
        assert_eq!(embedded_report(log), Some(Ok(serde_json::json!({"resolved": false}))));
        assert_eq!(result_line(log), Some(("a__b-1".to_string(), false)));
        assert!(!is_eval_log("t.py::a PASSED"));
        assert_eq!(strip_logging_prefix("2024-12-04 15:13:21,605 - WARNING - x"), "x");
    }
}
