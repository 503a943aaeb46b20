"""Exceptions raised by envfile."""


class EnvFileError(Exception):
    """Base class of envfile errors."""


class ParseError(EnvFileError):
    def __init__(self, lineno, message, line=""):
        super().__init__(f"line {lineno}: {message}")
        self.lineno = lineno
        self.message = message
        self.line = line


class UndefinedVariable(EnvFileError):
    def __init__(self, name, lineno=None):
        where = f" (line {lineno})" if lineno is not None else ""
        super().__init__(f"undefined variable ${{{name}}}{where}")
        self.name = name
        self.lineno = lineno
