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
//!
//! Speed (see `docs/benchmarks.md`): elements are interned to dense ids, `b2j` is one flat array,
//! and Python's per-row `j2len` dicts become one generation-stamped array, so a row costs no
//! allocation and no clearing.

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
pub fn ratio(a: &str, b: &str, autojunk: bool) -> f64 {
    let seqs = Interned::new(a.chars(), b.chars(), autojunk);
    python_ratio(seqs.matched(), seqs.a.len() + seqs.b.len())
}

/// `SequenceMatcher(None, a, b, autojunk=autojunk).ratio()` over any sequence of hashable items.
pub fn ratio_of<T: Eq + Hash + Copy>(a: &[T], b: &[T], autojunk: bool) -> f64 {
    let seqs = Interned::new(a.iter().copied(), b.iter().copied(), autojunk);
    python_ratio(seqs.matched(), a.len() + b.len())
}

/// `get_matching_blocks()` over code points: indices are code-point offsets, and the list ends
/// with the dummy `Match { a: len_a, b: len_b, size: 0 }`, as in Python.
pub fn matching_blocks(a: &str, b: &str, autojunk: bool) -> Vec<Match> {
    Interned::new(a.chars(), b.chars(), autojunk).matching_blocks()
}

/// `get_matching_blocks()` over any sequence of hashable items.
pub fn matching_blocks_of<T: Eq + Hash + Copy>(a: &[T], b: &[T], autojunk: bool) -> Vec<Match> {
    Interned::new(a.iter().copied(), b.iter().copied(), autojunk).matching_blocks()
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

/// Id given to an element of `a` that never occurs in `b`: it equals no id of `b`.
const ABSENT: usize = usize::MAX;

/// Both sequences as dense ids (ids are assigned over `b`, so comparing ids is comparing
/// elements) plus `b2j` as one flat array: `positions[starts[id]..starts[id + 1]]` are the
/// ascending indices of `id` in `b`, empty for popular ids.
struct Interned {
    a: Vec<usize>,
    b: Vec<usize>,
    starts: Vec<usize>,
    positions: Vec<usize>,
}

impl Interned {
    fn new<T: Eq + Hash>(a: impl Iterator<Item = T>, b: impl Iterator<Item = T>, autojunk: bool) -> Self {
        let mut ids: FxHashMap<T, usize> = FxHashMap::default();
        let mut counts: Vec<usize> = Vec::new();
        let b: Vec<usize> = b
            .map(|elt| {
                let next = counts.len();
                let id = *ids.entry(elt).or_insert(next);
                if id == next {
                    counts.push(0);
                }
                counts[id] += 1;
                id
            })
            .collect();
        let a: Vec<usize> = a.map(|elt| ids.get(&elt).copied().unwrap_or(ABSENT)).collect();
        let (starts, positions) = chain_b(&b, counts, autojunk);
        Interned { a, b, starts, positions }
    }

    fn matched(&self) -> usize {
        Matcher::new(self).raw_blocks().iter().map(|m| m.size).sum()
    }

    fn matching_blocks(&self) -> Vec<Match> {
        let mut blocks = Matcher::new(self).raw_blocks();
        blocks.sort_unstable();
        merge_adjacent(&blocks, self.a.len(), self.b.len())
    }
}

/// `__chain_b` with `isjunk=None`: counts each id, removes the popular ones when autojunk is on
/// and `b` has at least 200 elements, and lays out the remaining positions in ascending order.
fn chain_b(b: &[usize], counts: Vec<usize>, autojunk: bool) -> (Vec<usize>, Vec<usize>) {
    let n = b.len();
    let mut kept = counts;
    if autojunk && n >= 200 {
        let ntest = n / 100 + 1;
        for count in kept.iter_mut().filter(|count| **count > ntest) {
            *count = 0;
        }
    }
    let mut starts = Vec::with_capacity(kept.len() + 1);
    let mut total = 0;
    starts.push(0);
    for count in &kept {
        total += count;
        starts.push(total);
    }
    let mut positions = vec![0; total];
    let mut fill = starts[..kept.len()].to_vec();
    for (j, &id) in b.iter().enumerate() {
        if kept[id] > 0 {
            positions[fill[id]] = j;
            fill[id] += 1;
        }
    }
    (starts, positions)
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

/// One cell of the `j2len` replacement: `len` is valid only if `stamp` is the previous row's.
#[derive(Clone, Copy, Default)]
struct Cell {
    stamp: usize,
    len: usize,
}

/// Search state for one pair of sequences.
///
/// Python's `find_longest_match` keeps `j2len` (run length ending at `(i - 1, j)`) in a dict
/// and builds a fresh one per row `i`. Here `cells[j + 1]` holds the run ending at `j` together
/// with the row stamp that wrote it; a cell whose stamp is not the previous row's reads as 0,
/// which is exactly "absent from the previous dict". Stamps only grow, across calls too, so
/// nothing is ever cleared. `cells` is offset by one so that `j - 1` never underflows.
struct Matcher<'s> {
    seqs: &'s Interned,
    cells: Vec<Cell>,
    stamp: usize,
}

impl<'s> Matcher<'s> {
    fn new(seqs: &'s Interned) -> Self {
        Matcher { seqs, cells: vec![Cell::default(); seqs.b.len() + 1], stamp: 0 }
    }

    /// `get_matching_blocks` up to (not including) the sort: the non-empty blocks found by the
    /// LIFO queue of sub-ranges, in discovery order. Their sizes already sum to `matches`.
    fn raw_blocks(&mut self) -> Vec<Match> {
        let mut queue = vec![(0, self.seqs.a.len(), 0, self.seqs.b.len())];
        let mut blocks = Vec::new();
        while let Some((alo, ahi, blo, bhi)) = queue.pop() {
            let m = self.find_longest_match(alo, ahi, blo, bhi);
            if m.size == 0 {
                continue;
            }
            blocks.push(m);
            if alo < m.a && blo < m.b {
                queue.push((alo, m.a, blo, m.b));
            }
            if m.a + m.size < ahi && m.b + m.size < bhi {
                queue.push((m.a + m.size, ahi, m.b + m.size, bhi));
            }
        }
        blocks
    }

    /// `find_longest_match(alo, ahi, blo, bhi)` with an empty junk set.
    fn find_longest_match(&mut self, alo: usize, ahi: usize, blo: usize, bhi: usize) -> Match {
        let best = self.longest_seeded(alo, ahi, blo, bhi);
        self.extend(best, alo, ahi, blo, bhi)
    }

    /// The main loop of `find_longest_match`: the longest block of non-popular elements, earliest
    /// in `a`, then earliest in `b`; `(alo, blo, 0)` if there is none.
    ///
    /// Python walks each row's positions in ascending `j` and takes a new best only on `k >
    /// bestsize`, so within a row the smallest `j` with the row's largest `k` wins, and only if
    /// that `k` beats every earlier row. Walking descending lets one array serve as both the old
    /// and the new row (a write at `j` never feeds a later read at `j' - 1 < j`); the row's
    /// winner is then kept with `k >= row_k`, which selects the same smallest `j`.
    fn longest_seeded(&mut self, alo: usize, ahi: usize, blo: usize, bhi: usize) -> Match {
        let seqs = self.seqs;
        let mut best = Match { a: alo, b: blo, size: 0 };
        if alo >= ahi {
            return best;
        }
        self.make_room_for_rows(ahi - alo);
        // Row `alo - 1` is empty (Python starts from `j2len = {}`): use a stamp nobody wrote.
        self.stamp += 1;
        for i in alo..ahi {
            let prev = self.stamp;
            self.stamp += 1;
            let cur = self.stamp;
            let id = seqs.a[i];
            if id == ABSENT {
                continue;
            }
            let all = &seqs.positions[seqs.starts[id]..seqs.starts[id + 1]];
            // Python skips `j < blo` and stops at `j >= bhi`; the list is sorted, so cut it.
            let lo = all.partition_point(|&j| j < blo);
            let hi = lo + all[lo..].partition_point(|&j| j < bhi);
            let (mut row_k, mut row_j) = (0, 0);
            for &j in all[lo..hi].iter().rev() {
                let before = self.cells[j];
                let k = if before.stamp == prev { before.len + 1 } else { 1 };
                self.cells[j + 1] = Cell { stamp: cur, len: k };
                if k >= row_k {
                    (row_k, row_j) = (k, j);
                }
            }
            if row_k > best.size {
                best = Match { a: i + 1 - row_k, b: row_j + 1 - row_k, size: row_k };
            }
        }
        best
    }

    /// Restarts the stamps before they could wrap (only reachable with enormous inputs), so a
    /// stale cell can never carry the previous row's stamp.
    fn make_room_for_rows(&mut self, rows: usize) {
        if self.stamp > usize::MAX - rows - 2 {
            self.cells.iter_mut().for_each(|cell| *cell = Cell::default());
            self.stamp = 0;
        }
    }

    /// The extension passes of `find_longest_match`. With `bjunk` empty, `not isbjunk(..)` is
    /// always true, so the first two loops grow the block over any equal neighbours (popular
    /// elements are absent from `b2j` but still compare equal here) and the last two, which
    /// require a junk element, never run.
    fn extend(&self, mut m: Match, alo: usize, ahi: usize, blo: usize, bhi: usize) -> Match {
        let (a, b) = (&self.seqs.a, &self.seqs.b);
        while m.a > alo && m.b > blo && a[m.a - 1] == b[m.b - 1] {
            m = Match { a: m.a - 1, b: m.b - 1, size: m.size + 1 };
        }
        while m.a + m.size < ahi && m.b + m.size < bhi && a[m.a + m.size] == b[m.b + m.size] {
            m.size += 1;
        }
        m
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
mod tests {
    use super::*;

    /// Asserts bit equality with the value CPython printed, in both the `&str` and the generic
    /// entry point (the latter over the code points, as `ratio_of` sees token ids).
    fn check(a: &str, b: &str, autojunk: bool, expected: f64) {
        let got = ratio(a, b, autojunk);
        assert_eq!(
            got.to_bits(),
            expected.to_bits(),
            "ratio({a:?}, {b:?}, autojunk={autojunk}) = {got:?}, want {expected:?}"
        );
        let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        assert_eq!(ratio_of(&ca, &cb, autojunk).to_bits(), expected.to_bits(), "ratio_of({a:?}, {b:?}, {autojunk})");
    }

    // Expected values printed by CPython 3.11, for each row:
    //   python3 -c 'from difflib import SequenceMatcher as S; print(repr(S(None, A, B, autojunk=J).ratio()))'
    const GOLDEN: &[(&str, &str, bool, f64)] = &[
        ("", "", false, 1.0),
        ("", "", true, 1.0),
        ("abc", "", false, 0.0),
        ("", "abc", false, 0.0),
        ("abc", "abc", false, 1.0),
        ("abcd", "bcde", false, 0.75),
        ("abxcd", "abcd", false, 0.8888888888888888),
        (" abcd", "abcd abcd", false, 0.7142857142857143),
        ("ab", "c", false, 0.0),
        ("aaaa", "aa", false, 0.6666666666666666),
        ("abababab", "babababa", false, 0.875),
        ("hello world", "hello, world!", false, 0.9166666666666666),
        ("kitten", "sitting", false, 0.6153846153846154),
        ("😀😃😄", "😀😄", false, 0.8),
        ("a😀b", "ab", false, 0.8),
        ("👨\u{200d}👩\u{200d}👧", "👨\u{200d}👩", false, 0.75),
        ("日本語テキスト", "日本語のテキスト", false, 0.9333333333333333),
        ("e\u{301}cole", "\u{e9}cole", false, 0.7272727272727273),
        ("n\u{303}o\u{308}", "n\u{303}o", false, 0.8571428571428571),
        (
            "<function=bash>\n<parameter=command>grep -rn foo .</parameter>\n</function>",
            "<function=bash>\n<parameter=command>grep -rn bar src/</parameter>\n</function>",
            false,
            0.9261744966442953,
        ),
        (
            "<function=bash>\n<parameter=command>grep -rn bar src/</parameter>\n</function>",
            "<function=bash>\n<parameter=command>grep -rn foo .</parameter>\n</function>",
            false,
            0.9261744966442953,
        ),
        (
            "<function=str_replace_editor>\n<parameter=command>view</parameter>\n<parameter=path>/testbed/setup.py</parameter>\n</function>",
            "<function=str_replace_editor>\n<parameter=command>view</parameter>\n<parameter=path>/testbed/src/setup.cfg</parameter>\n</function>",
            false,
            0.9641434262948207,
        ),
        ("find . -name '*.py' | xargs grep -n 'def main'", "grep -rn 'def main' --include=*.py .", false, 0.43902439024390244),
        ("python reproduce.py", "python3 reproduce.py\n", false, 0.95),
    ];

    #[test]
    fn golden_short_strings() {
        for &(a, b, autojunk, expected) in GOLDEN {
            check(a, b, autojunk, expected);
        }
    }

    const EDIT_LONG: &str = "<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n<parameter=path>/testbed/src/module.py</parameter>\n<parameter=old_str>    if value is None:\n        return default\n    return int(value)</parameter>\n<parameter=new_str>    if value is None or value == '':\n        return default\n    return int(value, 10)</parameter>\n</function>";
    const EDIT_SHORT: &str = "<function=str_replace_editor>\n<parameter=command>str_replace</parameter>\n<parameter=path>/testbed/src/module.py</parameter>\n<parameter=old_str>    if value is None:\n        return default</parameter>\n<parameter=new_str>    if not value:\n        return default</parameter>\n</function>";

    /// 350 and 283 code points: autojunk prunes both directions differently, so the score
    /// depends on the setting and on the argument order (even without autojunk: greedy).
    #[test]
    fn golden_code_edit_autojunk_and_asymmetry() {
        check(EDIT_LONG, EDIT_SHORT, true, 0.6824644549763034);
        check(EDIT_LONG, EDIT_SHORT, false, 0.8878357030015798);
        check(EDIT_SHORT, EDIT_LONG, true, 0.7898894154818326);
        check(EDIT_SHORT, EDIT_LONG, false, 0.8909952606635071);
    }

    /// Repetitive strings of 200+ code points, where popular elements vanish from `b2j`.
    /// Python side: `L1 = "def f(x):\n    return x + 1\n" * 10`, and so on, as written here.
    #[test]
    fn golden_repetitive_over_200() {
        let l1 = "def f(x):\n    return x + 1\n".repeat(10);
        let l2 = "def g(y):\n    return y * 2\n".repeat(10);
        check(&l1, &l2, true, 0.014814814814814815);
        check(&l1, &l2, false, 0.8148148148148148);
        check(&l2, &l1, true, 0.014814814814814815);
        let l3 = "x = 1\n".repeat(40);
        let l3y = format!("{l3}y = 2\n");
        check(&l3, &l3y, true, 0.9876543209876543);
        check(&l3y, &l3, false, 0.9876543209876543);
        let l4 = "    self.assertEqual(a, b)\n".repeat(9);
        check(&l4, &l4[5..], true, 0.0);
        check(&l4, &l4[5..], false, 0.9896049896049897);
        check(&l4[5..], &l4, true, 0.0);
    }

    /// All-popular `b`: no seed is found, yet the forward extension pass grows the empty match at
    /// `(alo, blo)` over equal popular elements; that is why `"a" * 300` vs `"a" * 250` is not 0.
    #[test]
    fn golden_repeated_characters() {
        check(&"a".repeat(300), &"a".repeat(250), true, 0.9090909090909091);
        check(&"a".repeat(300), &"a".repeat(250), false, 0.9090909090909091);
        let (s, t) = ("ab ".repeat(70), format!("{}c", "ba ".repeat(70)));
        check(&s, &t, true, 0.0);
        check(&s, &t, false, 0.498812351543943);
        let (u, v) =
            (format!("{}{}", "x".repeat(150), "y".repeat(60)), format!("{}{}", "y".repeat(60), "x".repeat(150)));
        check(&u, &v, true, 0.0);
        check(&u, &v, false, 0.7142857142857143);
        let w = "xyxyxyxy".repeat(30);
        let w_rev: String = w.chars().rev().collect();
        check(&w, &w, true, 1.0);
        check(&w, &w_rev, true, 0.0);
        check(&w, &w_rev, false, 0.9958333333333333);
    }

    /// Non-ASCII over 200 code points (`J = "日本語のテキスト。" * 30; J2 = J[:120] + "中文" + J[140:]`)
    /// and a pseudo-random printable string
    /// (`R = "".join(chr(33 + (i * 7919) % 90) for i in range(250)); R2 = R[:100] + "XYZ" + R[130:]`).
    #[test]
    fn golden_long_unicode_and_random() {
        let j: String = "日本語のテキスト。".repeat(30);
        let jc: Vec<char> = j.chars().collect();
        let j2: String = jc[..120].iter().chain("中文".chars().collect::<Vec<_>>().iter()).chain(&jc[140..]).collect();
        check(&j, &j2, true, 0.45977011494252873);
        check(&j, &j2, false, 0.5172413793103449);
        check(&j2, &j, true, 0.45977011494252873);
        let r: String = (0..250u32).filter_map(|i| char::from_u32(33 + (i * 7919) % 90)).collect();
        let r2 = format!("{}XYZ{}", &r[..100], &r[130..]);
        check(&r, &r2, true, 0.6765327695560254);
        check(&r, &r2, false, 0.6765327695560254);
    }

    /// `get_matching_blocks()` including the sentinel, and Python's docstring examples.
    #[test]
    fn matching_blocks_like_python() {
        let m = |a, b, size| Match { a, b, size };
        assert_eq!(matching_blocks("abxcd", "abcd", false), vec![m(0, 0, 2), m(3, 2, 2), m(5, 4, 0)]);
        assert_eq!(matching_blocks(" abcd", "abcd abcd", false), vec![m(0, 4, 5), m(5, 9, 0)]);
        assert_eq!(matching_blocks("", "", false), vec![m(0, 0, 0)]);
        // S(None, "a😀bc", "xa😀c").get_matching_blocks(): indices are code points, not bytes.
        assert_eq!(matching_blocks("a😀bc", "xa😀c", false), vec![m(0, 1, 2), m(3, 3, 1), m(4, 4, 0)]);
    }

    /// Token ids go through the same code as characters.
    #[test]
    fn ratio_of_token_ids() {
        // S(None, [1, 2, 3, 4, 5], [1, 2, 4, 5, 6]).ratio() == 0.8
        check_ids(&[1u32, 2, 3, 4, 5], &[1, 2, 4, 5, 6], 0.8);
        check_ids(&[] as &[u32], &[], 1.0);
        check_ids(&[7u64; 3], &[8; 2], 0.0);
    }

    fn check_ids<T: Eq + Hash + Copy + std::fmt::Debug>(a: &[T], b: &[T], expected: f64) {
        assert_eq!(ratio_of(a, b, false).to_bits(), expected.to_bits(), "ratio_of({a:?}, {b:?})");
    }
}
