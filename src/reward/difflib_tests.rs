//! Golden cases against CPython and a property test against a line-by-line transcription of
//! difflib.py for `reward::difflib`.

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
    let (u, v) = (format!("{}{}", "x".repeat(150), "y".repeat(60)), format!("{}{}", "y".repeat(60), "x".repeat(150)));
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

/// `len(b) == 200` makes `ntest == 3`. In `b`, a cycle of 61 characters, the first 17 occur
/// 4 times (popular) and the other 44 exactly 3 times, which keeps them: the test is
/// `count > ntest`. Python: `b = "".join(chr(48 + i % 61) for i in range(200));
/// a = b[:50] + "~" + b[51:120] + "~" + b[121:]` (with `>=` the first ratio would be 0.25).
#[test]
fn golden_popular_threshold() {
    let b: String = (0..200u32).filter_map(|i| char::from_u32(48 + i % 61)).collect();
    let a = format!("{}~{}~{}", &b[..50], &b[51..120], &b[121..]);
    check(&a, &b, true, 0.39);
    check(&a, &b, false, 0.69);
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

/// A line-by-line transcription of CPython's code (dicts and all, no optimisation), to check
/// the fast path against on inputs too many for a golden table.
fn reference_ratio(a: &[char], b: &[char], autojunk: bool) -> f64 {
    let mut b2j: HashMap<char, Vec<usize>> = HashMap::new();
    for (i, &elt) in b.iter().enumerate() {
        b2j.entry(elt).or_default().push(i);
    }
    if autojunk && b.len() >= 200 {
        let ntest = b.len() / 100 + 1;
        b2j.retain(|_, idxs| idxs.len() <= ntest);
    }
    let mut queue = vec![(0, a.len(), 0, b.len())];
    let mut matches = 0;
    while let Some((alo, ahi, blo, bhi)) = queue.pop() {
        let (i, j, k) = reference_longest_match(a, b, &b2j, (alo, ahi, blo, bhi));
        if k > 0 {
            matches += k;
            if alo < i && blo < j {
                queue.push((alo, i, blo, j));
            }
            if i + k < ahi && j + k < bhi {
                queue.push((i + k, ahi, j + k, bhi));
            }
        }
    }
    python_ratio(matches, a.len() + b.len())
}

fn reference_longest_match(
    a: &[char],
    b: &[char],
    b2j: &HashMap<char, Vec<usize>>,
    (alo, ahi, blo, bhi): (usize, usize, usize, usize),
) -> (usize, usize, usize) {
    let (mut besti, mut bestj, mut bestsize) = (alo, blo, 0);
    let mut j2len: HashMap<usize, usize> = HashMap::new();
    for (i, elt) in a.iter().enumerate().take(ahi).skip(alo) {
        let mut newj2len = HashMap::new();
        for &j in b2j.get(elt).map(Vec::as_slice).unwrap_or(&[]) {
            if j < blo {
                continue;
            }
            if j >= bhi {
                break;
            }
            let k = j.checked_sub(1).and_then(|p| j2len.get(&p)).copied().unwrap_or(0) + 1;
            newj2len.insert(j, k);
            if k > bestsize {
                (besti, bestj, bestsize) = (i + 1 - k, j + 1 - k, k);
            }
        }
        j2len = newj2len;
    }
    while besti > alo && bestj > blo && a[besti - 1] == b[bestj - 1] {
        (besti, bestj, bestsize) = (besti - 1, bestj - 1, bestsize + 1);
    }
    while besti + bestsize < ahi && bestj + bestsize < bhi && a[besti + bestsize] == b[bestj + bestsize] {
        bestsize += 1;
    }
    (besti, bestj, bestsize)
}

use proptest::prelude::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Small alphabets (many ties, long runs, popular elements past 200), lengths across the
    /// autojunk threshold, ASCII and non-ASCII paths; calls interleave on one thread, so the
    /// reused buffers are exercised too.
    #[test]
    fn same_as_reference(a in "[ab c\u{e9}\u{1F600}]{0,260}", b in "[abc d\u{e9}]{0,260}", autojunk: bool) {
        let (ca, cb): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        let want = reference_ratio(&ca, &cb, autojunk);
        prop_assert_eq!(ratio(&a, &b, autojunk).to_bits(), want.to_bits());
        prop_assert_eq!(ratio(&b, &a, autojunk).to_bits(), reference_ratio(&cb, &ca, autojunk).to_bits());
    }
}

/// The stamp restart (normally after 2^32 rows on one thread) loses nothing.
#[test]
fn stamps_restart_cleanly() {
    let mut scratch = Scratch { stamp: u32::MAX - 300, ..Scratch::default() };
    for &(a, b, autojunk, expected) in GOLDEN.iter().chain([(EDIT_LONG, EDIT_SHORT, false, 0.8878357030015798)].iter())
    {
        scratch.load_str(a, b, autojunk);
        let got = python_ratio(scratch.matched(), scratch.a.len() + scratch.b.len());
        assert_eq!(got.to_bits(), expected.to_bits(), "{a:?} vs {b:?} at stamp {}", scratch.stamp);
    }
    assert!(scratch.stamp < u32::MAX - 300, "the restart was not reached");
}
