//! Head + tail truncation of long observations.
//!
//! The start of an output (the command's first lines, the file header) and its end (the error,
//! the test summary) carry most of the signal, so the middle goes. The marker says how many
//! characters were dropped, so the model knows the output was cut, and counts are in
//! characters (code points), never bytes, so no UTF-8 sequence is ever split.

/// `text` unchanged when it has at most `max_chars` characters; otherwise its head and tail
/// around a `[… N characters elided …]` line, the whole result within `max_chars` characters
/// whenever `max_chars` leaves room for the marker.
pub fn head_tail(text: &str, max_chars: usize) -> (String, bool) {
    let total = text.chars().count();
    if total <= max_chars {
        return (text.to_string(), false);
    }
    let marker_room = 48;
    let keep = max_chars.saturating_sub(marker_room);
    let head_chars = keep / 2;
    let tail_chars = keep - head_chars;
    let elided = total - head_chars - tail_chars;
    let head_end = byte_offset(text, head_chars);
    let tail_start = byte_offset(text, total - tail_chars);
    let out = format!("{}\n[… {elided} characters elided …]\n{}", &text[..head_end], &text[tail_start..]);
    (out, true)
}

fn byte_offset(text: &str, chars: usize) -> usize {
    text.char_indices().nth(chars).map_or(text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(text: &str, max: usize, expect: &str) {
        let (out, _) = head_tail(text, max);
        assert_eq!(out, expect);
    }

    #[test]
    fn short_text_is_untouched() {
        check("hello", 5, "hello");
    }

    #[test]
    fn long_text_keeps_head_and_tail() {
        let text: String = "a".repeat(100) + &"b".repeat(100);
        let (out, truncated) = head_tail(&text, 68);
        assert!(truncated);
        assert_eq!(out, format!("{}\n[… 180 characters elided …]\n{}", "a".repeat(10), "b".repeat(10)));
        assert!(out.chars().count() <= 68);
    }

    #[test]
    fn multibyte_characters_are_never_split() {
        let text = "é".repeat(300);
        let (out, truncated) = head_tail(&text, 100);
        assert!(truncated);
        assert!(out.starts_with(&"é".repeat(26)));
    }

    #[test]
    fn tiny_limit_keeps_only_the_marker() {
        check("abcdefghij", 3, "\n[… 10 characters elided …]\n");
    }
}
