import threading

import pytest

from respool import Pool, PoolClosed, PoolError, PoolExhausted


class Conn:
    created = 0

    def __init__(self):
        Conn.created += 1
        self.number = Conn.created
        self.closed = False

    def close(self):
        self.closed = True


def make_pool(**kwargs):
    return Pool(Conn, closer=Conn.close, **kwargs)


def test_acquire_creates_then_reuses():
    pool = make_pool(max_size=2)
    first = pool.acquire()
    pool.release(first)
    again = pool.acquire()
    assert again is first
    stats = pool.stats()
    assert stats["created"] == 1
    assert stats["reused"] == 1
    assert stats["in_use"] == 1


def test_most_recently_released_is_reused_first():
    pool = make_pool(max_size=3)
    a, b = pool.acquire(), pool.acquire()
    pool.release(a)
    pool.release(b)
    assert pool.acquire() is b


def test_non_blocking_acquire_on_full_pool():
    pool = make_pool(max_size=1)
    pool.acquire()
    with pytest.raises(PoolExhausted):
        pool.acquire(blocking=False)


def test_acquire_times_out():
    pool = make_pool(max_size=1)
    pool.acquire()
    with pytest.raises(PoolExhausted, match="within"):
        pool.acquire(timeout=0.05)


def test_blocked_acquire_gets_released_resource():
    pool = make_pool(max_size=1)
    held = pool.acquire()
    got = []
    waiter = threading.Thread(target=lambda: got.append(pool.acquire(timeout=5)))
    waiter.start()
    pool.release(held)
    waiter.join(5)
    assert got == [held]
    assert pool.stats()["created"] == 1


def test_release_unknown_resource():
    pool = make_pool()
    with pytest.raises(PoolError):
        pool.release(Conn())


def test_double_release_is_an_error():
    pool = make_pool()
    conn = pool.acquire()
    pool.release(conn)
    with pytest.raises(PoolError):
        pool.release(conn)


def test_discard_frees_the_slot():
    pool = make_pool(max_size=1)
    conn = pool.acquire()
    pool.release(conn, discard=True)
    assert conn.closed
    replacement = pool.acquire(blocking=False)
    assert replacement is not conn
    assert pool.stats()["size"] == 1


def test_factory_error_does_not_leak_capacity():
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionError("database is restarting")
        return Conn()

    pool = Pool(flaky, max_size=1)
    with pytest.raises(ConnectionError):
        pool.acquire()
    assert pool.stats()["size"] == 0
    assert isinstance(pool.acquire(blocking=False), Conn)


def test_close_retires_idle_and_refuses_acquire():
    pool = make_pool(max_size=2)
    idle, busy = pool.acquire(), pool.acquire()
    pool.release(idle)
    pool.close()
    assert idle.closed and not busy.closed
    with pytest.raises(PoolClosed):
        pool.acquire()
    pool.release(busy)
    assert busy.closed
    assert pool.stats()["size"] == 0


def test_pool_as_context_manager():
    with make_pool() as pool:
        conn = pool.acquire()
        pool.release(conn)
    assert pool.closed
    assert conn.closed
