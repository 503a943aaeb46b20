//! Shell-like splitting of one SWE-agent 0.x special-command line into its words.
//!
//! In SWE-agent 0.x the special commands were bash functions, so their arguments went through
//! bash's quoting: `search_dir "ASCIIUsernameValidator"`, `find_file 'fields.py' src`,
//! `open src/x\ y.py`. This module undoes that quoting. It deliberately does no expansion
//! (`$VAR`, globs, `~`, command substitution): those need a shell, so a line that uses shell
//! syntax beyond plain words is reported as [`Split::Compound`] and the caller refuses it.

/// The outcome of splitting one line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Split {
    Words(Vec<String>),
    /// The line continues with shell syntax (operator, redirection, substitution) at this text.
    Compound(String),
    /// A quote was opened and never closed.
    Unterminated,
}

/// Characters that start shell syntax when unquoted.
const OPERATORS: &[char] = &[';', '&', '|', '<', '>', '(', ')', '`', '\n'];

pub(super) fn split(line: &str) -> Split {
    let chars: Vec<char> = line.chars().collect();
    let mut words = Vec::new();
    let mut word: Option<String> = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        match c {
            ' ' | '\t' | '\r' => {
                words.extend(word.take());
                i += 1;
            }
            // A comment only starts at the beginning of a word.
            '#' if word.is_none() => break,
            '\'' => match chars[i + 1..].iter().position(|&q| q == '\'') {
                Some(end) => {
                    word.get_or_insert_with(String::new).extend(&chars[i + 1..i + 1 + end]);
                    i += end + 2;
                }
                None => return Split::Unterminated,
            },
            '"' => match double_quoted(&chars[i + 1..]) {
                Quoted::Text(text, used) => {
                    word.get_or_insert_with(String::new).push_str(&text);
                    i += used + 1;
                }
                Quoted::Expansion => return Split::Compound(chars[i..].iter().collect()),
                Quoted::Unterminated => return Split::Unterminated,
            },
            '\\' => {
                // A backslash before a newline continues the line; before anything else it quotes it.
                match chars.get(i + 1) {
                    Some('\n') => {}
                    Some(&next) => word.get_or_insert_with(String::new).push(next),
                    None => word.get_or_insert_with(String::new).push('\\'),
                }
                i += 2;
            }
            c if OPERATORS.contains(&c) || (c == '$' && chars.get(i + 1).is_some_and(|&n| starts_expansion(n))) => {
                return Split::Compound(chars[i..].iter().collect());
            }
            c => {
                word.get_or_insert_with(String::new).push(c);
                i += 1;
            }
        }
    }
    words.extend(word);
    Split::Words(words)
}

/// Whether `$` followed by `next` is a parameter expansion or substitution in bash.
fn starts_expansion(next: char) -> bool {
    next.is_alphanumeric() || "_({?@*#!$-".contains(next)
}

enum Quoted {
    /// The text and how many characters it used, closing quote included.
    Text(String, usize),
    /// An unescaped `$` expansion or backquote: needs a shell.
    Expansion,
    Unterminated,
}

/// A double-quoted string starting just after its opening quote. Inside double quotes a
/// backslash only escapes `"`, `\`, `$`, `` ` `` and newline, as in bash.
fn double_quoted(chars: &[char]) -> Quoted {
    let mut text = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '"' => return Quoted::Text(text, i + 1),
            '\\' if matches!(chars.get(i + 1), Some('"' | '\\' | '$' | '`')) => {
                text.push(chars[i + 1]);
                i += 2;
            }
            '\\' if chars.get(i + 1) == Some(&'\n') => i += 2,
            '`' => return Quoted::Expansion,
            '$' if chars.get(i + 1).is_some_and(|&n| n != '"' && starts_expansion(n)) => return Quoted::Expansion,
            c => {
                text.push(c);
                i += 1;
            }
        }
    }
    Quoted::Unterminated
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &str) -> Vec<String> {
        match split(line) {
            Split::Words(w) => w,
            other => panic!("{line:?} did not split into words: {other:?}"),
        }
    }

    #[test]
    fn quoting_is_undone_like_bash() {
        assert_eq!(words(r#"search_dir "ASCIIUsernameValidator""#), ["search_dir", "ASCIIUsernameValidator"]);
        assert_eq!(words("find_file 'fields.py' src"), ["find_file", "fields.py", "src"]);
        assert_eq!(words(r#"search_file "say \"hi\"" a\ b.py"#), ["search_file", "say \"hi\"", "a b.py"]);
        assert_eq!(words(r#"search_dir "def f(x):""#), ["search_dir", "def f(x):"]);
        assert_eq!(words("open x.py  # look"), ["open", "x.py"]);
        assert_eq!(words("search_dir ''"), ["search_dir", ""]);
        assert_eq!(words(r"search_dir 'a\b'"), ["search_dir", r"a\b"]);
    }

    #[test]
    fn shell_syntax_is_reported_not_interpreted() {
        assert_eq!(split("open x.py && ls"), Split::Compound("&& ls".into()));
        assert_eq!(split("find_file x | head"), Split::Compound("| head".into()));
        assert_eq!(split("open $(ls)"), Split::Compound("$(ls)".into()));
        assert_eq!(split("open $FILE"), Split::Compound("$FILE".into()));
        assert_eq!(words("search_dir cost$"), ["search_dir", "cost$"]);
        assert!(matches!(split(r#"search_dir "$HOME""#), Split::Compound(_)));
        assert_eq!(words(r#"search_dir "cost$" "\$x""#), ["search_dir", "cost$", "$x"]);
        assert_eq!(split("open 'x.py"), Split::Unterminated);
        assert_eq!(split("goto 1\ngoto 2"), Split::Compound("\ngoto 2".into()));
    }
}
