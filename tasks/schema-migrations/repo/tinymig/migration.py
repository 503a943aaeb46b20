"""The migration record and SQL splitting."""

import hashlib
import sqlite3
from dataclasses import dataclass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str

    @property
    def label(self):
        return f"{self.version:04d}_{self.name}"

    @property
    def checksum(self):
        return hashlib.sha256(self.sql.encode("utf-8")).hexdigest()

    def statements(self):
        """Split the SQL into complete statements (semicolons inside strings are fine)."""
        found = []
        buffer = ""
        for line in self.sql.splitlines(keepends=True):
            buffer += line
            if sqlite3.complete_statement(buffer):
                found.append(buffer.strip())
                buffer = ""
        leftover = [l for l in buffer.splitlines() if l.strip() and not l.strip().startswith("--")]
        if leftover:
            raise ValueError(f"{self.label}: incomplete statement at the end: {leftover[0]!r}")
        return found
