//! Collecting a command's output under a cap: the first and last halves of the allowed bytes
//! are kept, the middle is counted, and the caller learns when the command produced so much
//! that it should be killed.
//!
//! Works on bytes as they arrive (from a pipe or a Docker stream), so a command that prints
//! gigabytes costs memory bounded by the cap. Decoding to text happens once, at the end,
//! replacing invalid UTF-8 instead of failing: a binary file `cat` by an agent is an
//! observation, not an error.

use std::collections::VecDeque;

pub struct OutputCollector {
    cap: usize,
    head: Vec<u8>,
    tail: VecDeque<u8>,
    total: usize,
}

impl OutputCollector {
    /// Keeps at most `cap` bytes (half from the start, half from the end).
    pub fn new(cap: usize) -> OutputCollector {
        OutputCollector { cap, head: Vec::new(), tail: VecDeque::new(), total: 0 }
    }

    pub fn push(&mut self, mut bytes: &[u8]) {
        self.total += bytes.len();
        let head_room = (self.cap / 2).saturating_sub(self.head.len());
        let into_head = head_room.min(bytes.len());
        self.head.extend_from_slice(&bytes[..into_head]);
        bytes = &bytes[into_head..];
        let tail_cap = self.cap - self.cap / 2;
        if bytes.len() >= tail_cap {
            self.tail.clear();
            self.tail.extend(&bytes[bytes.len() - tail_cap..]);
            return;
        }
        let overflow = (self.tail.len() + bytes.len()).saturating_sub(tail_cap);
        self.tail.drain(..overflow);
        self.tail.extend(bytes);
    }

    /// Bytes seen so far, kept or not.
    pub fn total(&self) -> usize {
        self.total
    }

    /// The kept text, with a marker line where bytes were dropped, and the dropped count.
    pub fn finish(self) -> (String, usize) {
        let elided = self.total - self.head.len() - self.tail.len();
        let head = String::from_utf8_lossy(&self.head);
        let tail_bytes: Vec<u8> = self.tail.into_iter().collect();
        let tail = String::from_utf8_lossy(&tail_bytes);
        if elided == 0 {
            return (format!("{head}{tail}"), 0);
        }
        (format!("{head}\n[… {elided} bytes of output elided …]\n{tail}"), elided)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(cap: usize, chunks: &[&str], expect: &str, expect_elided: usize) {
        let mut collector = OutputCollector::new(cap);
        for chunk in chunks {
            collector.push(chunk.as_bytes());
        }
        let (text, elided) = collector.finish();
        assert_eq!(text, expect);
        assert_eq!(elided, expect_elided);
    }

    #[test]
    fn small_output_is_kept_whole() {
        check(10, &["abc", "def"], "abcdef", 0);
    }

    #[test]
    fn long_output_keeps_head_and_tail_across_chunks() {
        check(6, &["abcd", "efgh", "ij"], "abc\n[… 4 bytes of output elided …]\nhij", 4);
        check(6, &["abcdefghijklmnop"], "abc\n[… 10 bytes of output elided …]\nnop", 10);
    }

    #[test]
    fn invalid_utf8_is_replaced_not_fatal() {
        let mut collector = OutputCollector::new(100);
        collector.push(&[b'o', b'k', 0xff]);
        assert_eq!(collector.finish().0, "ok\u{fffd}");
    }
}
