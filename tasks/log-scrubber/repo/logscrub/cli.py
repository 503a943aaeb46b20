"""Command line: ``python -m logscrub [--only a,b] [--allow X] [--stats] [FILE ...]``."""

import argparse
import sys

from .redactor import Redactor
from .rules import DEFAULT_RULES, rules_by_name


def build_parser():
    parser = argparse.ArgumentParser(prog="logscrub", description="Redact secrets from log files.")
    parser.add_argument("files", nargs="*", help="files to read (default: standard input)")
    parser.add_argument("--only", help="comma-separated rule names to apply")
    parser.add_argument("--allow", action="append", default=[], help="a string never to redact")
    parser.add_argument("--stats", action="store_true", help="print replacement counts to stderr")
    return parser


def main(argv=None, stdin=None, stdout=None, stderr=None):
    stdin = stdin or sys.stdin
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    args = build_parser().parse_args(argv)
    try:
        rules = rules_by_name(args.only.split(",")) if args.only else DEFAULT_RULES
    except KeyError as exc:
        print(f"logscrub: {exc.args[0]}", file=stderr)
        return 2
    redactor = Redactor(rules, allow=args.allow)
    if args.files:
        for path in args.files:
            with open(path, encoding="utf-8", errors="replace") as handle:
                stdout.writelines(redactor.redact_lines(handle))
    else:
        stdout.writelines(redactor.redact_lines(stdin))
    if args.stats:
        for name, count in sorted(redactor.totals.items()):
            print(f"{name}: {count}", file=stderr)
    return 0
