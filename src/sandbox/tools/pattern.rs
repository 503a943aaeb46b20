//! The two pattern languages of SWE-agent 0.x's search commands: `grep`'s basic regular
//! expressions (`search_dir`, `search_file`) and `find -name` globs (`find_file`).
//!
//! [`Bre`] covers what agents write in practice: literal text, `.`, bracket expressions with
//! POSIX classes, `*`, `^`/`$` anchors, and the GNU extensions `\|`, `\w`, `\W`, `\s`, `\S`,
//! `\b`, `\<`, `\>`. Grouping `\(…\)` is accepted and ignored (so a starred group or a
//! back-reference does not behave as in grep) and interval braces `\{m,n\}` are taken
//! literally; both are rare in agent searches. Matching simulates the pattern's automaton
//! over the line, so it is linear in the line length whatever the pattern.

/// A parsed `grep` basic regular expression.
#[derive(Debug)]
pub(super) struct Bre {
    alternatives: Vec<Seq>,
}

#[derive(Debug, Default)]
struct Seq {
    anchored_start: bool,
    anchored_end: bool,
    items: Vec<Item>,
}

#[derive(Debug)]
enum Item {
    Atom { atom: Atom, star: bool },
    WordBoundary,
    WordStart,
    WordEnd,
}

#[derive(Debug)]
enum Atom {
    Char(char),
    Any,
    Set { negated: bool, ranges: Vec<(char, char)>, classes: Vec<fn(char) -> bool> },
}

impl Atom {
    fn matches(&self, c: char) -> bool {
        match self {
            Atom::Char(x) => *x == c,
            Atom::Any => true,
            Atom::Set { negated, ranges, classes } => {
                let inside = ranges.iter().any(|(lo, hi)| *lo <= c && c <= *hi) || classes.iter().any(|f| f(c));
                inside != *negated
            }
        }
    }
}

fn is_word(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

impl Bre {
    pub(super) fn parse(pattern: &str) -> Bre {
        let chars: Vec<char> = pattern.chars().collect();
        let mut alternatives = Vec::new();
        let mut seq = Seq::default();
        let mut i = 0;
        while i < chars.len() {
            let at_start = seq.items.is_empty() && !seq.anchored_start;
            let alternative_ends = i + 1 == chars.len() || (chars[i + 1] == '\\' && chars.get(i + 2) == Some(&'|'));
            match chars[i] {
                '^' if at_start => seq.anchored_start = true,
                '$' if alternative_ends => seq.anchored_end = true,
                '*' => match seq.items.last_mut() {
                    Some(Item::Atom { star, .. }) if !*star => *star = true,
                    // A leading `*` (or one after an anchor or another star) is literal in a BRE.
                    _ => seq.items.push(Item::Atom { atom: Atom::Char('*'), star: false }),
                },
                '.' => seq.items.push(Item::Atom { atom: Atom::Any, star: false }),
                '[' => match bracket(&chars[i + 1..]) {
                    Some((atom, used)) => {
                        seq.items.push(Item::Atom { atom, star: false });
                        i += used;
                    }
                    None => seq.items.push(Item::Atom { atom: Atom::Char('['), star: false }),
                },
                '\\' => {
                    i += 1;
                    match chars.get(i) {
                        Some('|') => alternatives.push(std::mem::take(&mut seq)),
                        Some(&c) => seq.items.extend(escaped(c)),
                        None => seq.items.push(Item::Atom { atom: Atom::Char('\\'), star: false }),
                    }
                }
                c => seq.items.push(Item::Atom { atom: Atom::Char(c), star: false }),
            }
            i += 1;
        }
        alternatives.push(seq);
        Bre { alternatives }
    }

    /// Whether the pattern matches anywhere in `line` (one line, without its newline).
    pub(super) fn is_match(&self, line: &str) -> bool {
        let chars: Vec<char> = line.chars().collect();
        self.alternatives.iter().any(|seq| seq.is_match(&chars))
    }
}

/// The item a backslash escape stands for; `None` for the ignored group parentheses.
fn escaped(c: char) -> Option<Item> {
    let class = |negated: bool, f: fn(char) -> bool| Atom::Set { negated, ranges: Vec::new(), classes: vec![f] };
    let atom = match c {
        '(' | ')' => return None,
        'b' => return Some(Item::WordBoundary),
        '<' => return Some(Item::WordStart),
        '>' => return Some(Item::WordEnd),
        'w' => class(false, is_word),
        'W' => class(true, is_word),
        's' => class(false, char::is_whitespace),
        'S' => class(true, char::is_whitespace),
        other => Atom::Char(other),
    };
    Some(Item::Atom { atom, star: false })
}

/// A bracket expression starting just after `[`: the set and the characters it used,
/// closing `]` included; `None` when it is never closed (grep would reject the pattern, we
/// take the `[` literally).
fn bracket(chars: &[char]) -> Option<(Atom, usize)> {
    let mut i = 0;
    let negated = chars.first() == Some(&'^');
    if negated {
        i += 1;
    }
    let (mut ranges, mut classes) = (Vec::new(), Vec::<fn(char) -> bool>::new());
    let first = i;
    loop {
        let c = *chars.get(i)?;
        if c == ']' && i > first {
            return Some((Atom::Set { negated, ranges, classes }, i + 1));
        }
        if c == '[' && chars.get(i + 1) == Some(&':') {
            let rest: String = chars[i + 2..].iter().collect();
            let end = rest.find(":]")?;
            classes.push(named_class(&rest[..end])?);
            i += 2 + rest[..end].chars().count() + 2;
            continue;
        }
        match (chars.get(i + 1), chars.get(i + 2)) {
            (Some('-'), Some(&hi)) if hi != ']' => {
                ranges.push((c, hi));
                i += 3;
            }
            _ => {
                ranges.push((c, c));
                i += 1;
            }
        }
    }
}

fn named_class(name: &str) -> Option<fn(char) -> bool> {
    Some(match name {
        "alpha" => char::is_alphabetic,
        "digit" => |c: char| c.is_ascii_digit(),
        "alnum" => char::is_alphanumeric,
        "space" => char::is_whitespace,
        "upper" => char::is_uppercase,
        "lower" => char::is_lowercase,
        "punct" => |c: char| c.is_ascii_punctuation(),
        "xdigit" => |c: char| c.is_ascii_hexdigit(),
        "blank" => |c: char| c == ' ' || c == '\t',
        "cntrl" => char::is_control,
        "print" => |c: char| !c.is_control(),
        "graph" => |c: char| !c.is_control() && !c.is_whitespace(),
        _ => return None,
    })
}

impl Seq {
    /// Runs the sequence's automaton over `line`: state `k` means the first `k` items matched.
    fn is_match(&self, line: &[char]) -> bool {
        let n = self.items.len();
        let mut active = vec![false; n + 1];
        for pos in 0..=line.len() {
            if pos == 0 || !self.anchored_start {
                active[0] = true;
            }
            self.close(&mut active, line, pos);
            if active[n] && (!self.anchored_end || pos == line.len()) {
                return true;
            }
            let Some(&c) = line.get(pos) else { break };
            let mut next = vec![false; n + 1];
            for (k, item) in self.items.iter().enumerate() {
                if let (true, Item::Atom { atom, star }) = (active[k], item) {
                    if atom.matches(c) {
                        next[if *star { k } else { k + 1 }] = true;
                    }
                }
            }
            active = next;
        }
        false
    }

    /// Follows the moves that consume nothing: skipping a starred atom, passing an assertion.
    fn close(&self, active: &mut [bool], line: &[char], pos: usize) {
        let before = pos.checked_sub(1).and_then(|p| line.get(p)).is_some_and(|&c| is_word(c));
        let after = line.get(pos).is_some_and(|&c| is_word(c));
        for (k, item) in self.items.iter().enumerate() {
            let passes = match item {
                Item::Atom { star, .. } => *star,
                Item::WordBoundary => before != after,
                Item::WordStart => !before && after,
                Item::WordEnd => before && !after,
            };
            if active[k] && passes {
                active[k + 1] = true;
            }
        }
    }
}

/// Whether `name` matches the `find -name` glob `pattern` (`*`, `?`, `[…]`, `\x`). As in GNU
/// find, a leading dot is not special.
pub(super) fn glob_match(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let s: Vec<char> = name.chars().collect();
    // `reach[j]`: the pattern read so far can match exactly the first `j` characters of the name.
    let mut reach = vec![false; s.len() + 1];
    reach[0] = true;
    let mut i = 0;
    while i < p.len() {
        let mut next = vec![false; s.len() + 1];
        let used = match p[i] {
            '*' => {
                let mut seen = false;
                for j in 0..=s.len() {
                    seen |= reach[j];
                    next[j] = seen;
                }
                1
            }
            c => {
                let (atom, used) = glob_atom(&p[i..], c);
                for j in 0..s.len() {
                    next[j + 1] = reach[j] && atom.matches(s[j]);
                }
                used
            }
        };
        reach = next;
        i += used;
    }
    reach[s.len()]
}

/// One single-character glob item at the start of `p` (whose first char is `c`) and its length.
fn glob_atom(p: &[char], c: char) -> (Atom, usize) {
    match c {
        '?' => (Atom::Any, 1),
        '\\' if p.len() > 1 => (Atom::Char(p[1]), 2),
        '[' => {
            // fnmatch negates with `!` as well as `^`.
            let mut inner: Vec<char> = p[1..].to_vec();
            if inner.first() == Some(&'!') {
                inner[0] = '^';
            }
            match bracket(&inner) {
                Some((atom, used)) => (atom, used + 1),
                None => (Atom::Char('['), 1),
            }
        }
        c => (Atom::Char(c), 1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grep(pattern: &str, line: &str) -> bool {
        Bre::parse(pattern).is_match(line)
    }

    #[test]
    fn literal_text_and_metacharacters_match_like_grep() {
        assert!(grep("ASCIIUsernameValidator", "class ASCIIUsernameValidator(validators.RegexValidator):"));
        assert!(grep("def f(x):", "    def f(x): pass"));
        assert!(grep("fields.py", "fieldsXpy"));
        assert!(!grep("fields\\.py", "fieldsXpy"));
        assert!(grep("^import", "import os"));
        assert!(!grep("^import", " import os"));
        assert!(grep("os$", "import os"));
        assert!(!grep("os$", "import os.path"));
        assert!(grep("a$b", "xa$by"));
        assert!(grep("ab*c", "ac") && grep("ab*c", "abbbc") && !grep("ab*c", "abd"));
        assert!(grep("*x", "a*x"));
        assert!(grep("", "anything"));
        assert!(grep("x{1}", "x{1}"));
    }

    #[test]
    fn brackets_classes_and_gnu_extensions() {
        assert!(grep("[0-9][0-9]*px", "width: 120px"));
        assert!(!grep("[^a-z]", "abc"));
        assert!(grep("[[:upper:]]_", "X_"));
        assert!(grep("[]x]", "]"));
        assert!(grep("foo\\|bar", "a bar") && grep("foo\\|bar", "foo") && !grep("foo\\|bar", "baz"));
        assert!(grep("\\bcat\\b", "a cat.") && !grep("\\bcat\\b", "concatenate"));
        assert!(grep("\\<get_\\w*", "x = get_value()"));
        assert!(grep("\\(ab\\)c", "abc"));
        assert!(grep("[unclosed", "an [unclosed bracket"));
    }

    #[test]
    fn globs_match_like_find_name() {
        assert!(glob_match("fields.py", "fields.py"));
        assert!(!glob_match("fields.py", "fields.pyc"));
        assert!(glob_match("*.py", "x.py") && glob_match("*.py", ".hidden.py"));
        assert!(glob_match("test_*_[a-c]?.py", "test_x_b1.py"));
        assert!(!glob_match("[!a]*", "abc") && glob_match("[!a]*", "bc"));
        assert!(glob_match("a\\*", "a*") && !glob_match("a\\*", "ab"));
        assert!(glob_match("*", ""));
    }
}
