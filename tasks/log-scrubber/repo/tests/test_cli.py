import io

from logscrub.cli import main


def run(argv, stdin_text=""):
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, stdin=io.StringIO(stdin_text), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_stdin_to_stdout_with_stats():
    code, out, err = run(["--stats"], "from 10.0.0.1\nuser bob@example.com\n")
    assert code == 0
    assert out == "from [IP]\nuser [EMAIL]\n"
    assert err == "email: 1\nipv4: 1\n"


def test_only_selected_rules(tmp_path):
    log = tmp_path / "app.log"
    log.write_text("bob@example.com 10.0.0.1\n", encoding="utf-8")
    code, out, _ = run(["--only", "ipv4", str(log)])
    assert code == 0
    assert out == "bob@example.com [IP]\n"


def test_unknown_rule_is_an_error():
    code, out, err = run(["--only", "phone"])
    assert code == 2
    assert "unknown rule" in err
