"""Exceptions raised by respool."""


class PoolError(Exception):
    """Base class for every error raised by a pool."""


class PoolExhausted(PoolError):
    """No resource became available in time (or ``blocking=False`` was asked)."""


class PoolClosed(PoolError):
    """The pool was closed; no more resources can be acquired from it."""
