import pytest

from logscrub.rules import DEFAULT_RULES, Rule, rules_by_name


def rule(name):
    return rules_by_name([name])[0]


def test_email():
    assert rule("email").apply("mail alice@example.com now") == ("mail [EMAIL] now", 1)


def test_ipv4_every_occurrence():
    text, n = rule("ipv4").apply("10.0.0.1 -> 10.0.0.2 -> 192.168.1.20 -> 8.8.8.8")
    assert text == "[IP] -> [IP] -> [IP] -> [IP]"
    assert n == 4


def test_ipv4_ignores_version_numbers_out_of_range():
    assert rule("ipv4").apply("version 300.1.2.3") == ("version 300.1.2.3", 0)


def test_bearer_token():
    text, n = rule("bearer").apply("Authorization: Bearer eyJhbGciOi.eyJzdWIi.SflKxw==")
    assert text == "Authorization: Bearer [REDACTED]"
    assert n == 1


def test_secret_key_value_keeps_key_and_separator():
    text, _ = rule("secret_kv").apply("user=bob password=hunter2, retries=3")
    assert text == "user=bob password=[REDACTED], retries=3"
    assert rule("secret_kv").apply("api_key: abc123")[0] == "api_key: [REDACTED]"


def test_aws_key_is_case_sensitive():
    assert rule("aws_key").apply("key AKIAIOSFODNN7EXAMPLE")[0] == "key [AWS_KEY]"
    assert rule("aws_key").apply("key akiaiosfodnn7example")[1] == 0


def test_rules_by_name_keeps_default_order():
    assert [r.name for r in rules_by_name(["secret_kv", "email"])] == ["email", "secret_kv"]
    with pytest.raises(KeyError):
        rules_by_name(["email", "phone"])


def test_invalid_rules():
    with pytest.raises(ValueError):
        Rule("Bad Name", "x", "y")
    with pytest.raises(ValueError):
        Rule("broken", "(unclosed", "y")


def test_default_rule_names_are_unique():
    names = [r.name for r in DEFAULT_RULES]
    assert len(names) == len(set(names))
