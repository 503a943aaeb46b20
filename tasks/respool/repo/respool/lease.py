"""Context-manager access to pooled resources."""


class Lease:
    """Acquire a resource on ``__enter__`` and give it back on ``__exit__``.

    If the body raises and ``discard_on_error`` is true, the resource is discarded instead of
    being returned to the pool, since it may be left in an unknown state (half-read socket,
    aborted transaction...).
    """

    def __init__(self, pool, timeout=None, discard_on_error=True):
        self._pool = pool
        self._timeout = timeout
        self._discard_on_error = discard_on_error
        self.resource = None

    def __enter__(self):
        self.resource = self._pool.acquire(timeout=self._timeout)
        return self.resource

    def __exit__(self, exc_type, exc, tb):
        resource, self.resource = self.resource, None
        if resource is not None:
            self._pool.release(resource, discard=exc_type is not None and self._discard_on_error)
        return False
