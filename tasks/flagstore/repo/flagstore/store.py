"""A file-backed collection of flags."""

import os
import tempfile

from .evaluate import is_enabled
from .reader import loads
from .writer import dumps


class FlagStore:
    """Flags loaded from, and saved to, one text file."""

    def __init__(self, path):
        self.path = path
        self._flags = {}

    def load(self):
        """(Re)load the file; a missing file means no flags."""
        try:
            with open(self.path, encoding="utf-8") as fp:
                self._flags = loads(fp.read())
        except FileNotFoundError:
            self._flags = {}
        return self

    def save(self):
        """Write the file atomically: readers see either the old or the new content."""
        directory = os.path.dirname(os.path.abspath(self.path))
        fd, tmp = tempfile.mkstemp(prefix=".flags-", dir=directory)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fp:
                fp.write(dumps(self._flags.values()))
            os.replace(tmp, self.path)
        except BaseException:
            os.unlink(tmp)
            raise

    def get(self, name):
        return self._flags[name]

    def set(self, flag):
        self._flags[flag.name] = flag

    def remove(self, name):
        del self._flags[name]

    def names(self):
        return sorted(self._flags)

    def is_enabled(self, name, user_id=None, segments=()):
        """Unknown flags are off."""
        flag = self._flags.get(name)
        return flag is not None and is_enabled(flag, user_id, segments)
