"""The pool itself."""

import threading
import time

from .errors import PoolClosed, PoolError, PoolExhausted
from .health import HealthPolicy
from .lease import Lease


class _Entry:
    """Book-keeping for one resource owned by the pool."""

    __slots__ = ("resource", "created_at", "uses")

    def __init__(self, resource, created_at):
        self.resource = resource
        self.created_at = created_at
        self.uses = 0


class Pool:
    """A bounded pool of resources made by ``factory``.

    At most ``max_size`` resources exist at any time (idle plus in use). ``closer`` is called
    with each resource the pool retires. ``clock`` is only used to measure resource age.
    """

    def __init__(self, factory, max_size=10, *, policy=None, closer=None, clock=time.monotonic):
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._factory = factory
        self._closer = closer
        self.max_size = max_size
        self.policy = policy or HealthPolicy()
        self._clock = clock
        self._lock = threading.Lock()
        self._available = threading.Condition(self._lock)
        self._idle = []  # most recently released last
        self._in_use = {}  # id(resource) -> _Entry
        self._size = 0  # resources currently owned by the pool, idle or in use
        self._closed = False
        self._stats = {"created": 0, "reused": 0, "discarded": 0, "waits": 0}

    # -- acquiring -------------------------------------------------------------------------

    def acquire(self, blocking=True, timeout=None):
        """Return a resource, reusing an idle one when possible.

        Blocks until one is released when the pool is full, unless ``blocking`` is false;
        raises ``PoolExhausted`` when none is available in time.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._lock:
            while True:
                if self._closed:
                    raise PoolClosed("pool is closed")
                entry = self._take_idle()
                if entry is not None:
                    entry.uses += 1
                    self._in_use[id(entry.resource)] = entry
                    self._stats["reused"] += 1
                    return entry.resource
                if self._size < self.max_size:
                    break
                if not blocking:
                    raise PoolExhausted(f"all {self.max_size} resources are in use")
                remaining = None if deadline is None else deadline - time.monotonic()
                if remaining is not None and remaining <= 0:
                    raise PoolExhausted(f"no resource became available within {timeout}s")
                self._stats["waits"] += 1
                self._available.wait(remaining)
        # Creating a resource can be slow (connect, TLS handshake, login), so it is done
        # without holding the lock: other threads can keep reusing idle resources meanwhile.
        resource = self._factory()
        entry = _Entry(resource, self._clock())
        entry.uses = 1
        with self._lock:
            self._size += 1
            self._stats["created"] += 1
            self._in_use[id(resource)] = entry
        return resource

    def lease(self, timeout=None, discard_on_error=True):
        """``with pool.lease() as conn:`` acquires and always releases."""
        return Lease(self, timeout=timeout, discard_on_error=discard_on_error)

    def _take_idle(self):
        """Pop the most recently used idle resource that is still healthy (lock held)."""
        now = self._clock()
        while self._idle:
            entry = self._idle.pop()
            if self.policy.is_reusable(entry.created_at, entry.uses, now, entry.resource):
                return entry
            self._retire(entry)
        return None

    # -- releasing -------------------------------------------------------------------------

    def release(self, resource, discard=False):
        """Give ``resource`` back; with ``discard`` it is closed instead of reused."""
        with self._lock:
            entry = self._in_use.pop(id(resource), None)
            if entry is None:
                raise PoolError("resource is not in use from this pool (released twice?)")
            if discard or self._closed or self.policy.expired(entry.created_at, entry.uses, self._clock()):
                self._retire(entry)
            else:
                self._idle.append(entry)
            self._available.notify()

    def _retire(self, entry):
        """Close a resource and free its slot (lock held)."""
        self._size -= 1
        self._stats["discarded"] += 1
        if self._closer is not None:
            try:
                self._closer(entry.resource)
            except Exception:
                pass

    def close(self):
        """Close idle resources now and in-use ones as they are released."""
        with self._lock:
            self._closed = True
            while self._idle:
                self._retire(self._idle.pop())
            self._available.notify_all()

    # -- introspection ---------------------------------------------------------------------

    def stats(self):
        """Counters plus the current ``size``, ``idle`` and ``in_use`` numbers."""
        with self._lock:
            stats = dict(self._stats)
            stats.update(size=self._size, idle=len(self._idle), in_use=len(self._in_use))
            return stats

    @property
    def closed(self):
        return self._closed

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False
