import pytest

from logscrub import Redactor, Rule


def test_redact_line_with_several_kinds():
    text, counts = Redactor().redact("login alice@example.com password=hunter2 from 10.0.0.7")
    assert text == "login [EMAIL] password=[REDACTED] from [IP]"
    assert counts == {"email": 1, "secret_kv": 1, "ipv4": 1}


def test_clean_text_is_unchanged():
    assert Redactor().redact("GET /health 200 3ms") == ("GET /health 200 3ms", {})


def test_allow_list_is_kept():
    redactor = Redactor(allow=["support@example.com"])
    text, counts = redactor.redact("contact support@example.com or bob@example.com")
    assert text == "contact support@example.com or [EMAIL]"
    assert counts == {"email": 1}


def test_totals_accumulate():
    redactor = Redactor()
    redactor.redact("from 10.0.0.1")
    redactor.redact("from 10.0.0.2 to 10.0.0.3")
    assert redactor.totals["ipv4"] == 3


def test_redact_lines_keeps_line_endings():
    lines = ["a 10.0.0.1\n", "b\r\n", "c token=xyz"]
    assert list(Redactor().redact_lines(lines)) == ["a [IP]\n", "b\r\n", "c token=[REDACTED]"]


def test_custom_rule():
    phone = Rule("phone", r"\+?\d[\d -]{7,}\d", "[PHONE]")
    assert Redactor([phone]).redact("call +44 20 7946 0958")[0] == "call [PHONE]"


def test_duplicate_rule_names_rejected():
    with pytest.raises(ValueError):
        Redactor([Rule("x", "a", "b"), Rule("x", "c", "d")])
