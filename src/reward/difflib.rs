//! Exact port of CPython's `difflib.SequenceMatcher(None, a, b, autojunk=X).ratio()`.
//!
//! The similarity reward compares a proposed action with the expert's action the way the SRL
//! paper (and every Python reference implementation of it) does: with `SequenceMatcher.ratio()`.
//! Rewards computed here must equal the ones a Python pipeline would compute, bit for bit, so
//! that numbers, thresholds and cached datasets carry over in both directions. "Close enough"
//! is not: the matcher is greedy (longest block first, then recursion on both sides), so a
//! different tie-break changes which blocks are found, not just the last digits.
//!
//! What is ported, from `Lib/difflib.py` (3.11, identical in 3.8–3.13 for this path):
//! - `__chain_b`: `b2j` maps each element of `b` to its ascending positions; with `isjunk=None`
//!   the junk set is empty; with `autojunk` and `len(b) >= 200`, elements occurring more than
//!   `len(b) // 100 + 1` times are "popular" and dropped from `b2j`;
//! - `find_longest_match`: same search, same tie-break (earliest `i`, then earliest `j`), and
//!   the extension passes. Because `bjunk` is empty, the first pair of passes extends the block
//!   over *any* equal neighbours (popular ones included) and the second pair never runs;
//! - `get_matching_blocks`: the LIFO queue, the sort, the merge of adjacent blocks;
//! - `ratio()`: `2.0 * matches / (len(a) + len(b))`, and `1.0` when both are empty, evaluated
//!   with the same two IEEE-754 double operations Python performs.
//!
//! Sequences are compared element by element: [`ratio`] uses Unicode code points, which is what
//! iterating a Python `str` yields (not bytes, not grapheme clusters); [`ratio_of`] takes any
//! slice of `Eq + Hash + Copy` items, e.g. token ids.
//!
//! Project default: `autojunk = false`. With autojunk, `ratio(a, b) != ratio(b, a)` in general
//! (only `b` is pruned) and on strings of 200+ code points the score collapses, because spaces,
//! `e`, `/` … become popular and can no longer seed a match.
//!
//! Not ported: `isjunk` predicates, opcodes, `quick_ratio`/`real_quick_ratio`, and the other
//! difflib helpers. Lone surrogates, which a Python `str` may hold, cannot occur in a `&str`.
//! Sequences of 2^32 - 2 elements (bytes, for strings) or more are refused: positions are `u32`.
//!
//! Speed (see `docs/benchmarks.md`): elements become small integer ids (an ASCII byte is its own),
//! `b2j` is one flat array, rows of `a` that cannot match are skipped, Python's per-row `j2len`
//! dicts become one generation-stamped array (no allocation, no clearing), and all buffers are
//! reused from one comparison to the next on the same thread.

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hash, Hasher};

/// One matching block: `a[a..a + size] == b[b..b + size]`, like Python's `difflib.Match`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Match {
    pub a: usize,
    pub b: usize,
    pub size: usize,
}

/// `SequenceMatcher(None, a, b, autojunk=autojunk).ratio()` over the code points of `a` and `b`.
///
/// # Panics
/// If `a` or `b` is 2^32 - 2 bytes long or longer.
pub fn ratio(a: &str, b: &str, autojunk: bool) -> f64 {
    with_scratch(|s| {
        s.load_str(a, b, autojunk);
        python_ratio(s.matched(), s.a.len() + s.b.len())
    })
}

/// `SequenceMatcher(None, a, b, autojunk=autojunk).ratio()` over any sequence of hashable items.
///
/// # Panics
/// If `a` or `b` has 2^32 - 2 elements or more.
pub fn ratio_of<T: Eq + Hash + Copy>(a: &[T], b: &[T], autojunk: bool) -> f64 {
    with_scratch(|s| {
        s.load_items(a, b, autojunk);
        python_ratio(s.matched(), a.len() + b.len())
    })
}

/// `get_matching_blocks()` over code points: indices are code-point offsets, and the list ends
/// with the dummy `Match { a: len_a, b: len_b, size: 0 }`, as in Python. Panics like [`ratio`].
pub fn matching_blocks(a: &str, b: &str, autojunk: bool) -> Vec<Match> {
    with_scratch(|s| {
        s.load_str(a, b, autojunk);
        s.matching_blocks()
    })
}

/// `get_matching_blocks()` over any sequence of hashable items. Panics like [`ratio_of`].
pub fn matching_blocks_of<T: Eq + Hash + Copy>(a: &[T], b: &[T], autojunk: bool) -> Vec<Match> {
    with_scratch(|s| {
        s.load_items(a, b, autojunk);
        s.matching_blocks()
    })
}

/// Python's `_calculate_ratio`: `2.0 * matches / length if length else 1.0`. `2.0 * matches` is a
/// float product and `float / int` converts the int to a double first, so two f64 operations on
/// exactly representable operands (counts stay far below 2^53) give the same bits as CPython.
fn python_ratio(matches: usize, length: usize) -> f64 {
    if length == 0 {
        return 1.0;
    }
    2.0 * matches as f64 / length as f64
}

/// Sequences must be shorter than this: positions, row numbers, run lengths and row stamps are
/// `u32`, and a search needs two stamps to spare.
const TOO_LONG: usize = u32::MAX as usize - 2;

/// Buffers past this many elements are dropped after use instead of being kept for the thread.
const KEEP_CAPACITY: usize = 1 << 16;

/// Runs `f` on this thread's reusable buffers (a fresh set if they are somehow in use already).
fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    thread_local! {
        static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
    }
    SCRATCH.with(|cell| match cell.try_borrow_mut() {
        Ok(mut scratch) => {
            let out = f(&mut scratch);
            if scratch.a.capacity().max(scratch.b.capacity()) > KEEP_CAPACITY {
                *scratch = Scratch::default();
            }
            out
        }
        Err(_) => f(&mut Scratch::default()),
    })
}

/// Everything one comparison needs, kept between comparisons so that a call allocates nothing
/// once the thread has seen a pair as long.
#[derive(Default)]
struct Scratch {
    /// The two sequences as ids; equal ids exactly when equal elements.
    a: Vec<u32>,
    b: Vec<u32>,
    b2j: B2j,
    /// The rows `i` of `a` whose element has positions in `b2j`, in order. The others (elements
    /// `b` lacks, popular elements) can never seed a match and are skipped without a look; with
    /// autojunk on that is most rows of ordinary text.
    live: Vec<LiveRow>,
    /// Per id, its positions inside the current search's `b` window, see [`Scratch::choose_window`].
    window: Vec<Window>,
    /// `j2len`, see [`Scratch::longest_seeded`]: `cells[j + 1]` is the run ending at `b[j]`.
    cells: Vec<Cell>,
    /// The last row stamp handed out; stamps only grow, across searches and comparisons.
    stamp: u32,
    queue: Vec<(usize, usize, usize, usize)>,
    blocks: Vec<Match>,
    char_ids: CharIds,
}

/// A row `i` of `a` whose element, `id`, has positions in `b2j`.
#[derive(Clone, Copy, Default)]
struct LiveRow {
    i: u32,
    id: u32,
}

/// `positions[lo..hi]` are the positions of one id inside the window of the search stamped
/// `stamp`; with any other stamp, the id does not occur in the window.
#[derive(Clone, Copy, Default)]
struct Window {
    stamp: u32,
    lo: u32,
    hi: u32,
}

/// One cell of the `j2len` replacement: `len` is valid only if `stamp` is the previous row's.
#[derive(Clone, Copy, Default)]
struct Cell {
    stamp: u32,
    len: u32,
}

impl Scratch {
    /// Code points of two strings. An ASCII byte is its own id (alphabet 128): most action text
    /// is ASCII, and then there is neither UTF-8 decoding nor a lookup per element.
    fn load_str(&mut self, a: &str, b: &str, autojunk: bool) {
        check_len(a.len(), b.len());
        self.a.clear();
        self.b.clear();
        let alphabet = if a.is_ascii() && b.is_ascii() {
            self.a.extend(a.bytes().map(u32::from));
            self.b.extend(b.bytes().map(u32::from));
            128
        } else {
            self.char_ids.clear();
            intern(&mut self.char_ids, a.chars(), b.chars(), &mut self.a, &mut self.b)
        };
        self.index(alphabet, autojunk);
    }

    fn load_items<T: Eq + Hash + Copy>(&mut self, a: &[T], b: &[T], autojunk: bool) {
        check_len(a.len(), b.len());
        self.a.clear();
        self.b.clear();
        let mut ids = HashIds::default();
        let alphabet = intern(&mut ids, a.iter().copied(), b.iter().copied(), &mut self.a, &mut self.b);
        self.index(alphabet, autojunk);
    }

    /// Builds `b2j` and the live rows for ids below `alphabet`, and makes room in `cells` and
    /// `window`. New entries carry stamp 0, which no search uses, and old ones carry stamps of
    /// finished searches.
    fn index(&mut self, alphabet: usize, autojunk: bool) {
        self.b2j.build(&self.b, alphabet, autojunk);
        // Branch-free filter (whether a row is live is random): write every row, and advance the
        // end only past live ones.
        self.live.clear();
        self.live.resize(self.a.len(), LiveRow::default());
        let mut kept = 0;
        for (i, &id) in self.a.iter().enumerate() {
            let (start, end) = self.b2j.ranges[id as usize];
            self.live[kept] = LiveRow { i: i as u32, id };
            kept += usize::from(start < end);
        }
        self.live.truncate(kept);
        if self.window.len() < alphabet {
            self.window.resize(alphabet, Window::default());
        }
        if self.cells.len() <= self.b.len() {
            self.cells.resize(self.b.len() + 1, Cell::default());
        }
    }

    fn matched(&mut self) -> usize {
        self.raw_blocks();
        self.blocks.iter().map(|m| m.size).sum()
    }

    fn matching_blocks(&mut self) -> Vec<Match> {
        self.raw_blocks();
        self.blocks.sort_unstable();
        merge_adjacent(&self.blocks, self.a.len(), self.b.len())
    }

    /// `get_matching_blocks` up to (not including) the sort: the non-empty blocks found by the
    /// LIFO queue of sub-ranges, in discovery order, into `blocks`. Their sizes sum to `matches`.
    fn raw_blocks(&mut self) {
        self.blocks.clear();
        self.queue.clear();
        self.queue.push((0, self.a.len(), 0, self.b.len()));
        while let Some((alo, ahi, blo, bhi)) = self.queue.pop() {
            let m = self.find_longest_match(alo, ahi, blo, bhi);
            if m.size == 0 {
                continue;
            }
            self.blocks.push(m);
            if alo < m.a && blo < m.b {
                self.queue.push((alo, m.a, blo, m.b));
            }
            if m.a + m.size < ahi && m.b + m.size < bhi {
                self.queue.push((m.a + m.size, ahi, m.b + m.size, bhi));
            }
        }
    }

    /// `find_longest_match(alo, ahi, blo, bhi)` with an empty junk set.
    fn find_longest_match(&mut self, alo: usize, ahi: usize, blo: usize, bhi: usize) -> Match {
        let best = self.longest_seeded(alo, ahi, blo, bhi);
        self.extend(best, alo, ahi, blo, bhi)
    }

    /// The main loop of `find_longest_match`: the longest block of non-popular elements, earliest
    /// in `a`, then earliest in `b`; `(alo, blo, 0)` if there is none.
    ///
    /// Python keeps `j2len` (run length ending at `(i - 1, j)`) in a dict and builds a fresh one
    /// per row. Here `cells[j + 1]` holds the run ending at `b[j]` with the stamp of the row that
    /// wrote it, and a cell not stamped by the previous row reads as 0: "absent from the dict".
    /// Row `i` is stamped `base + 1 + (i - alo)`, so that holds across skipped rows too, and
    /// `base` itself (row `alo - 1`, empty in Python: `j2len = {}`) was never handed out.
    fn longest_seeded(&mut self, alo: usize, ahi: usize, blo: usize, bhi: usize) -> Match {
        let mut best = Match { a: alo, b: blo, size: 0 };
        self.make_room_for_rows(ahi.saturating_sub(alo));
        let base = self.stamp + 1;
        // Stamps are handed out before use, so that no later search can reuse one, whatever
        // happens here.
        self.stamp = base + 1 + ahi.saturating_sub(alo) as u32;
        let first = self.live.partition_point(|row| (row.i as usize) < alo);
        let last = first + self.live[first..].partition_point(|row| (row.i as usize) < ahi);
        let marked = self.choose_window(blo, bhi, last - first, base);
        for row in &self.live[first..last] {
            let cur = base + 1 + (row.i - alo as u32);
            let run = if marked {
                let w = self.window[row.id as usize];
                let (lo, hi) = if w.stamp == base { (w.lo, w.hi) } else { (0, 0) };
                &self.b2j.positions[lo as usize..hi as usize]
            } else {
                let (lo, hi) = self.b2j.ranges[row.id as usize];
                in_window(&self.b2j.positions[lo as usize..hi as usize], blo as u32, bhi as u32)
            };
            if let Some((k, j)) = scan_row(&mut self.cells, run, cur - 1, cur, best.size) {
                best = Match { a: row.i as usize + 1 - k, b: j + 1 - k, size: k };
            }
        }
        best
    }

    /// Each row needs its element's positions inside `blo..bhi`. Python walks the whole list
    /// and skips the ones outside; cutting the sorted list with two binary searches per row is
    /// the same, but for a window much smaller than the rows (the usual case once the search
    /// recurses) one pass over the window is cheaper: it marks, per id, the first and last of
    /// its positions there. The factor 16 is where the two cost about the same on the pairs of
    /// `scripts/difflib_pairs.py`. Returns whether it marked; the first search of a pair covers
    /// all of `b` and needs neither.
    fn choose_window(&mut self, blo: usize, bhi: usize, rows: usize, base: u32) -> bool {
        let whole = blo == 0 && bhi == self.b.len();
        if whole || bhi - blo >= 16 * rows {
            return false;
        }
        for (&id, &slot) in self.b[blo..bhi].iter().zip(&self.b2j.slot[blo..bhi]) {
            let w = &mut self.window[id as usize];
            let lo = if w.stamp == base { w.lo } else { slot };
            *w = Window { stamp: base, lo, hi: slot + 1 };
        }
        true
    }

    /// Restarts the stamps before they could wrap, so that a stale cell can never carry the
    /// stamp of a current row. [`check_len`] keeps one search's rows below the limit.
    fn make_room_for_rows(&mut self, rows: usize) {
        if u64::from(self.stamp) + rows as u64 + 2 > u64::from(u32::MAX) {
            self.cells.fill(Cell::default());
            self.window.fill(Window::default());
            self.stamp = 0;
        }
    }

    /// The extension passes of `find_longest_match`. With `bjunk` empty, `not isbjunk(..)` is
    /// always true, so the first two loops grow the block over any equal neighbours (popular
    /// elements are absent from `b2j` but still compare equal here; so are empty matches at
    /// `(alo, blo)`) and the last two, which require a junk element, never run.
    fn extend(&self, mut m: Match, alo: usize, ahi: usize, blo: usize, bhi: usize) -> Match {
        let (a, b) = (&self.a, &self.b);
        while m.a > alo && m.b > blo && a[m.a - 1] == b[m.b - 1] {
            m = Match { a: m.a - 1, b: m.b - 1, size: m.size + 1 };
        }
        while m.a + m.size < ahi && m.b + m.size < bhi && a[m.a + m.size] == b[m.b + m.size] {
            m.size += 1;
        }
        m
    }
}

fn check_len(len_a: usize, len_b: usize) {
    assert!(len_a < TOO_LONG && len_b < TOO_LONG, "difflib: sequences must be shorter than {TOO_LONG} elements");
}

/// `b2j` as one flat array: the positions of each id in `b`, ascending, grouped by id, and per
/// id its range in `positions`.
#[derive(Default)]
struct B2j {
    ranges: Vec<(u32, u32)>,
    positions: Vec<u32>,
    /// Per position `j` of `b`: where `j` sits in `positions`.
    slot: Vec<u32>,
    /// Per id: first its count, then where its next position goes.
    cursor: Vec<u32>,
}

impl B2j {
    /// `__chain_b` with `isjunk=None`. With autojunk and `len(b) >= 200`, an id occurring more
    /// than `len(b) // 100 + 1` times is popular and gets an empty range; its positions stay in
    /// the array, unused, so that filling it needs no test per element.
    fn build(&mut self, b: &[u32], alphabet: usize, autojunk: bool) {
        self.cursor.clear();
        self.cursor.resize(alphabet, 0);
        for &id in b {
            self.cursor[id as usize] += 1;
        }
        let n = b.len();
        let ntest = if autojunk && n >= 200 { n / 100 + 1 } else { usize::MAX };
        self.ranges.clear();
        let mut total = 0;
        for cursor in &mut self.cursor {
            let count = *cursor;
            let kept = if count as usize > ntest { 0 } else { count };
            self.ranges.push((total, total + kept));
            *cursor = total;
            total += count;
        }
        self.positions.clear();
        self.positions.resize(n, 0);
        self.slot.clear();
        self.slot.resize(n, 0);
        for (j, &id) in b.iter().enumerate() {
            let cursor = &mut self.cursor[id as usize];
            self.positions[*cursor as usize] = j as u32;
            self.slot[j] = *cursor;
            *cursor += 1;
        }
    }
}

/// The merge loop at the end of `get_matching_blocks`: joins blocks that touch in both `a` and
/// `b`, drops empty ones, and appends the `(len_a, len_b, 0)` sentinel. `sorted` must be sorted.
fn merge_adjacent(sorted: &[Match], len_a: usize, len_b: usize) -> Vec<Match> {
    let mut out = Vec::with_capacity(sorted.len() + 1);
    let mut cur = Match { a: 0, b: 0, size: 0 };
    for &next in sorted {
        if cur.a + cur.size == next.a && cur.b + cur.size == next.b {
            cur.size += next.size;
        } else {
            if cur.size > 0 {
                out.push(cur);
            }
            cur = next;
        }
    }
    if cur.size > 0 {
        out.push(cur);
    }
    out.push(Match { a: len_a, b: len_b, size: 0 });
    out
}

/// The positions of one element that lie in `blo..bhi`, cut out of its sorted list. The first
/// search of every pair covers all of `b`, hence the checks before the binary searches.
fn in_window(all: &[u32], blo: u32, bhi: u32) -> &[u32] {
    let lo = match all.first() {
        Some(&first) if first < blo => all.partition_point(|&j| j < blo),
        _ => 0,
    };
    let rest = &all[lo..];
    let hi = match rest.last() {
        Some(&last) if last >= bhi => rest.partition_point(|&j| j < bhi),
        _ => rest.len(),
    };
    &rest[..hi]
}

/// One row `i` of the search: for each `j` the run ending at `(i, j)` is one more than the run
/// ending at `(i - 1, j - 1)` if the previous row (`prev`) wrote that cell, else 1. Returns the
/// new best `(k, j)` if this row beats `best_size`.
///
/// Python walks `j` ascending and takes a new best only on `k > bestsize`, so within a row the
/// smallest `j` with the row's largest `k` wins, and only if that `k` beats all earlier rows.
/// Walking descending lets one array hold both rows (the write at `j + 1` never feeds a later
/// read at `j' < j`), and the same winner is kept by preferring, among equal `k`, the `j` seen
/// last. Short rows track their maximum without branches: which `k` wins is random there, and
/// mispredictions cost more than the dependency chain. Long rows, where a new best is rare
/// after the first few rows, test against a threshold that predicts well instead.
#[inline]
fn scan_row(cells: &mut [Cell], run: &[u32], prev: u32, cur: u32, best_size: usize) -> Option<(usize, usize)> {
    if run.len() < 64 {
        let (mut row_k, mut row_j) = (0, 0);
        for &j in run.iter().rev() {
            let k = extend_run(cells, j as usize, prev, cur);
            let better = k >= row_k;
            row_k = if better { k } else { row_k };
            row_j = if better { j as usize } else { row_j };
        }
        return (row_k as usize > best_size).then_some((row_k as usize, row_j));
    }
    // The threshold starts at `best_size + 1` and rises to each accepted `k`.
    let mut threshold = best_size + 1;
    let mut found = None;
    for &j in run.iter().rev() {
        let k = extend_run(cells, j as usize, prev, cur) as usize;
        if k >= threshold {
            threshold = k;
            found = Some((k, j as usize));
        }
    }
    found
}

/// `k = newj2len[j] = j2len.get(j - 1, 0) + 1`, without a branch on whether the diagonal
/// continues (random in practice).
#[inline(always)]
fn extend_run(cells: &mut [Cell], j: usize, prev: u32, cur: u32) -> u32 {
    let before = cells[j];
    let k = (before.len & u32::from(before.stamp == prev).wrapping_neg()) + 1;
    cells[j + 1] = Cell { stamp: cur, len: k };
    k
}

/// Numbers the distinct elements of `b` in order of first occurrence, into `b_ids`; elements of
/// `a` that `b` lacks all get the one id past them, which equals no id of `b`. Returns the
/// number of ids used.
fn intern<T, I: Ids<T>>(
    ids: &mut I,
    a: impl Iterator<Item = T>,
    b: impl Iterator<Item = T>,
    a_ids: &mut Vec<u32>,
    b_ids: &mut Vec<u32>,
) -> usize {
    let mut next = 0;
    b_ids.extend(b.map(|elt| {
        let id = ids.id_or_insert(elt, next);
        next += u32::from(id == next);
        id
    }));
    a_ids.extend(a.map(|elt| ids.id(&elt).unwrap_or(next)));
    next as usize + 1
}

/// Dense ids for the distinct elements of `b`.
trait Ids<T> {
    /// The id of `elt`, which becomes `next` if `elt` has none yet.
    fn id_or_insert(&mut self, elt: T, next: u32) -> u32;
    fn id(&self, elt: &T) -> Option<u32>;
}

struct HashIds<T>(FxHashMap<T, u32>);

impl<T> Default for HashIds<T> {
    fn default() -> Self {
        HashIds(FxHashMap::default())
    }
}

impl<T: Eq + Hash> Ids<T> for HashIds<T> {
    fn id_or_insert(&mut self, elt: T, next: u32) -> u32 {
        *self.0.entry(elt).or_insert(next)
    }

    fn id(&self, elt: &T) -> Option<u32> {
        self.0.get(elt).copied()
    }
}

/// Ids for code points of non-ASCII strings: their ASCII characters, usually most of them, go
/// through a table instead of the hash map.
struct CharIds {
    ascii: [u32; 128],
    other: HashIds<char>,
}

const NO_ID: u32 = u32::MAX;

impl Default for CharIds {
    fn default() -> Self {
        CharIds { ascii: [NO_ID; 128], other: HashIds::default() }
    }
}

impl CharIds {
    fn clear(&mut self) {
        self.ascii = [NO_ID; 128];
        self.other.0.clear();
    }
}

impl Ids<char> for CharIds {
    fn id_or_insert(&mut self, elt: char, next: u32) -> u32 {
        match self.ascii.get_mut(elt as usize) {
            Some(slot) if *slot == NO_ID => {
                *slot = next;
                next
            }
            Some(slot) => *slot,
            None => self.other.id_or_insert(elt, next),
        }
    }

    fn id(&self, elt: &char) -> Option<u32> {
        match self.ascii.get(*elt as usize) {
            Some(&slot) => (slot != NO_ID).then_some(slot),
            None => self.other.id(elt),
        }
    }
}

type FxHashMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

/// The rustc "Fx" hash: one rotate, xor and multiply per word. Not DoS-resistant, which is fine
/// for a map that lives for one call over two short sequences; SipHash would cost more than the
/// whole interning step.
#[derive(Default, Clone, Copy)]
struct FxHasher {
    hash: u64,
}

const FX_SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(FX_SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        for &byte in chunks.remainder() {
            self.add(u64::from(byte));
        }
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }

    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }

    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    /// The multiply leaves the low bits weak, and the table picks buckets from them: rotating
    /// brings the well-mixed high bits down.
    fn finish(&self) -> u64 {
        self.hash.rotate_left(26)
    }
}

#[cfg(test)]
#[path = "difflib_tests.rs"]
mod tests;
