import pytest

from envfile import Entry, ParseError, parse
from envfile.parser import parse_line


def test_simple_assignments():
    entries = parse("A=1\nB = two \n\n# comment\nexport C=3\n")
    assert [(e.key, e.value, e.lineno) for e in entries] == [("A", "1", 1), ("B", "two", 2), ("C", "3", 5)]


def test_blank_and_comment_lines_are_skipped():
    assert parse_line("   ") is None
    assert parse_line("  # DEBUG=1") is None


def test_inline_comment_after_unquoted_value():
    assert parse_line("LEVEL=info   # or debug").value == "info"


def test_hash_without_whitespace_is_part_of_the_value():
    assert parse_line("URL=https://example.org/docs#install").value == "https://example.org/docs#install"
    assert parse_line('COLOR="#ff0000"').value == "#ff0000"


def test_double_quotes_unescape():
    entry = parse_line(r'GREETING="Hello\n\"World\"\t!"')
    assert entry == Entry("GREETING", 'Hello\n"World"\t!', 1, '"')
    assert entry.interpolate


def test_single_quotes_are_literal():
    entry = parse_line(r"PATTERN='a\nb ${HOME}'")
    assert entry.value == r"a\nb ${HOME}"
    assert not entry.interpolate


def test_quoted_value_keeps_inner_whitespace():
    assert parse_line('PADDED="  x  "').value == "  x  "


def test_comment_after_quoted_value():
    assert parse_line('NAME="web"  # the service name').value == "web"


@pytest.mark.parametrize(
    "line, message",
    [
        ("JUST_A_KEY", "expected KEY=VALUE"),
        ("1ABC=x", "invalid key"),
        ("MY-KEY=x", "invalid key"),
        ('OPEN="never closed', "unterminated"),
        ('TRAIL="a" b', "after the closing quote"),
        (r'BAD="\q"', "invalid escape"),
    ],
)
def test_errors(line, message):
    with pytest.raises(ParseError) as excinfo:
        parse("OK=1\n" + line)
    assert excinfo.value.lineno == 2
    assert message in str(excinfo.value)
