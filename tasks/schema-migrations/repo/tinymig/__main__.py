"""``python -m tinymig DB DIRECTORY [--target N] [--status]``."""

import argparse
import sqlite3
import sys

from .errors import TinymigError
from .runner import migrate, status


def main(argv=None, out=None):
    out = out or sys.stdout
    parser = argparse.ArgumentParser(prog="tinymig")
    parser.add_argument("database")
    parser.add_argument("directory")
    parser.add_argument("--target", type=int)
    parser.add_argument("--status", action="store_true")
    args = parser.parse_args(argv)
    conn = sqlite3.connect(args.database)
    try:
        if args.status:
            for label, done in status(conn, args.directory):
                print(f"[{'x' if done else ' '}] {label}", file=out)
            return 0
        applied = migrate(conn, args.directory, target=args.target)
        print(f"applied {len(applied)} migration(s)", file=out)
        return 0
    except TinymigError as exc:
        print(f"error: {exc}", file=out)
        return 1
    finally:
        conn.close()


if __name__ == "__main__":
    sys.exit(main())
