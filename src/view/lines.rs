//! A JSONL file indexed by the byte offsets of its lines, so a page of records is read with
//! one seek each and a 100 MB file is never held in memory. Each line is summarized once when
//! indexed (the summary is what lists and filters need); the record itself is read again when
//! asked for.
//!
//! The index grows with the file: `refresh` reads only what was appended since the last call
//! (a run being written shows its new lines on reload), and starts over when the file shrank
//! (a resumed training run truncates its logs). A last line without its newline may be half
//! written: it is summarized on every refresh, and indexed for good once its newline is there.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Where one line is and what it says.
pub struct Entry<S> {
    pub offset: u64,
    pub len: usize,
    /// 1-based line number, for messages.
    pub line: usize,
    pub summary: S,
}

/// What summarizing a line gave.
pub enum Summary<S> {
    Record(S),
    /// Not a record of this kind; `reason` is shown to the user.
    Problem(String),
    /// The whole file is something else (its first record says so): stop indexing it.
    NotThisKind,
}

pub struct LineIndex<S> {
    pub path: PathBuf,
    entries: Vec<Entry<S>>,
    /// An unterminated last line that parsed, re-read on every refresh.
    tail: Option<Entry<S>>,
    indexed_bytes: u64,
    lines_seen: usize,
    pub problems: Vec<String>,
    pub not_this_kind: bool,
}

impl<S> LineIndex<S> {
    pub fn new(path: &Path) -> LineIndex<S> {
        LineIndex {
            path: path.to_path_buf(),
            entries: Vec::new(),
            tail: None,
            indexed_bytes: 0,
            lines_seen: 0,
            problems: Vec::new(),
            not_this_kind: false,
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len() + usize::from(self.tail.is_some())
    }

    pub fn get(&self, idx: usize) -> Option<&Entry<S>> {
        self.entries.get(idx).or_else(|| if idx == self.entries.len() { self.tail.as_ref() } else { None })
    }

    pub fn iter(&self) -> impl Iterator<Item = &Entry<S>> {
        self.entries.iter().chain(self.tail.as_ref())
    }

    /// Indexes what was appended since the last call: `summarize(line_number, first, bytes)`,
    /// `first` for the file's first non-blank line.
    pub fn refresh(&mut self, summarize: &mut dyn FnMut(usize, bool, &[u8]) -> Summary<S>) -> Result<()> {
        if self.not_this_kind {
            return Ok(());
        }
        let size = std::fs::metadata(&self.path).with_context(|| format!("cannot read {}", self.path.display()))?.len();
        if size < self.indexed_bytes {
            *self = LineIndex::new(&self.path);
        }
        self.tail = None;
        let mut file = File::open(&self.path).with_context(|| format!("cannot open {}", self.path.display()))?;
        file.seek(SeekFrom::Start(self.indexed_bytes))
            .with_context(|| format!("cannot read {}", self.path.display()))?;
        let mut reader = BufReader::with_capacity(1 << 16, file);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            let read =
                reader.read_until(b'\n', &mut buf).with_context(|| format!("cannot read {}", self.path.display()))?;
            if read == 0 {
                return Ok(());
            }
            let offset = self.indexed_bytes;
            let complete = buf.last() == Some(&b'\n');
            let line = self.lines_seen + 1;
            if buf.iter().all(u8::is_ascii_whitespace) {
                if complete {
                    self.indexed_bytes += read as u64;
                    self.lines_seen += 1;
                }
                continue;
            }
            let first = self.entries.is_empty() && self.problems.is_empty();
            let summary = summarize(line, first, &buf);
            if !complete {
                // Half written, or a file without a final newline: shown while it parses.
                if let Summary::Record(summary) = summary {
                    self.tail = Some(Entry { offset, len: read, line, summary });
                }
                return Ok(());
            }
            self.indexed_bytes += read as u64;
            self.lines_seen += 1;
            match summary {
                Summary::Record(summary) => self.entries.push(Entry { offset, len: read, line, summary }),
                Summary::Problem(reason) => {
                    self.problems.push(format!("{}: line {line}: {reason}", self.path.display()))
                }
                Summary::NotThisKind => {
                    self.not_this_kind = true;
                    self.entries.clear();
                    return Ok(());
                }
            }
        }
    }

    /// The bytes of one indexed line.
    pub fn read(&self, entry: &Entry<S>) -> Result<Vec<u8>> {
        let mut file = File::open(&self.path).with_context(|| format!("cannot open {}", self.path.display()))?;
        file.seek(SeekFrom::Start(entry.offset)).with_context(|| format!("cannot read {}", self.path.display()))?;
        let mut bytes = vec![0; entry.len];
        file.read_exact(&mut bytes)
            .with_context(|| format!("{}: line {} changed while it was read", self.path.display(), entry.line))?;
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summarize(_: usize, _: bool, bytes: &[u8]) -> Summary<String> {
        match serde_json::from_slice::<serde_json::Value>(bytes) {
            Ok(v) if v.get("skip").is_some() => Summary::NotThisKind,
            Ok(v) => Summary::Record(v["k"].to_string()),
            Err(e) => Summary::Problem(e.to_string()),
        }
    }

    #[test]
    fn lines_are_indexed_as_the_file_grows_and_shrinks() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.jsonl");
        std::fs::write(&path, "{\"k\":1}\n\nnot json\n{\"k\":2").unwrap();
        let mut index = LineIndex::new(&path);
        index.refresh(&mut summarize).unwrap();
        let keys: Vec<&str> = index.iter().map(|e| e.summary.as_str()).collect();
        assert_eq!(keys, ["1", "2"]);
        assert_eq!(index.problems.len(), 1);
        assert!(index.problems[0].contains("line 3"), "{:?}", index.problems);
        assert_eq!(index.read(index.get(1).unwrap()).unwrap(), b"{\"k\":2");
        std::fs::write(&path, "{\"k\":1}\n\nnot json\n{\"k\":2}\n{\"k\":3}\n").unwrap();
        index.refresh(&mut summarize).unwrap();
        assert_eq!(index.len(), 3);
        assert_eq!(index.get(2).unwrap().line, 5);
        std::fs::write(&path, "{\"k\":9}\n").unwrap();
        index.refresh(&mut summarize).unwrap();
        let keys: Vec<&str> = index.iter().map(|e| e.summary.as_str()).collect();
        assert_eq!(keys, ["9"]);
        std::fs::write(&path, "{\"skip\":1}\n{\"k\":9}\n").unwrap();
        let mut other = LineIndex::new(&path);
        other.refresh(&mut summarize).unwrap();
        assert!(other.not_this_kind && other.len() == 0);
    }
}
