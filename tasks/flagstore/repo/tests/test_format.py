import pytest

from flagstore import Flag, FlagFileError, dumps, loads

SAMPLE = """\
# flagstore v1

[new-checkout]
enabled = true
rollout = 25%
segments = beta,  staff
description = New one-page checkout

# kept off until the migration is done
[search.v2]
enabled = no
"""


def test_loads_sample():
    flags = loads(SAMPLE)
    assert list(flags) == ["new-checkout", "search.v2"]
    checkout = flags["new-checkout"]
    assert checkout.enabled and checkout.rollout == 25
    assert checkout.segments == ["beta", "staff"]
    assert checkout.description == "New one-page checkout"
    assert flags["search.v2"] == Flag("search.v2")


def test_dumps_format():
    text = dumps([Flag("b-flag", rollout=0), Flag("a-flag", enabled=True, segments=["staff"], description="Try it")])
    assert text == (
        "# flagstore v1\n"
        "\n"
        "[a-flag]\n"
        "enabled = true\n"
        "rollout = 100\n"
        "segments = staff\n"
        "description = Try it\n"
        "\n"
        "[b-flag]\n"
        "enabled = false\n"
        "rollout = 0\n"
    )


def test_round_trip():
    flags = [
        Flag("dark-mode", enabled=True, rollout=50, segments=["beta"], description="Dark theme, v2 = better"),
        Flag("legacy-export"),
    ]
    assert list(loads(dumps(flags)).values()) == flags


@pytest.mark.parametrize(
    "text, line, message",
    [
        ("enabled = true\n", 1, "outside"),
        ("[a]\nenabled = maybe\n", 2, "true or false"),
        ("[a]\nrollout = lots\n", 2, "integer"),
        ("[a]\ncolour = red\n", 2, "unknown setting"),
        ("[a]\njust some words\n", 2, "key = value"),
        ("[a]\n[a]\n", 2, "duplicate"),
        ("[a]\nrollout = 120\n", 1, "between 0 and 100"),
        ("[Bad Name]\n", 1, "invalid flag name"),
    ],
    ids=["outside-section", "bad-bool", "bad-rollout", "unknown-key", "no-equals", "duplicate", "rollout-range", "bad-name"],
)
def test_errors_report_line(text, line, message):
    with pytest.raises(FlagFileError, match=message) as info:
        loads(text)
    assert info.value.line == line
