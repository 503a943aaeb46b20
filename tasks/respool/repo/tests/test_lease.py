import pytest

from respool import Pool


class Session:
    def __init__(self):
        self.closed = False


def close(session):
    session.closed = True


def test_lease_returns_resource_to_pool():
    pool = Pool(Session, max_size=1, closer=close)
    with pool.lease() as session:
        assert pool.stats()["in_use"] == 1
    assert pool.stats() == {"created": 1, "reused": 0, "discarded": 0, "waits": 0, "size": 1, "idle": 1, "in_use": 0}
    with pool.lease() as again:
        assert again is session


def test_lease_discards_on_error():
    pool = Pool(Session, max_size=1, closer=close)
    with pytest.raises(RuntimeError):
        with pool.lease() as session:
            raise RuntimeError("transaction aborted")
    assert session.closed
    assert pool.stats()["size"] == 0


def test_lease_can_keep_resource_on_error():
    pool = Pool(Session, max_size=1, closer=close)
    with pytest.raises(KeyError):
        with pool.lease(discard_on_error=False) as session:
            raise KeyError("missing row")
    assert not session.closed
    assert pool.stats()["idle"] == 1
