import pytest

from respool import HealthPolicy, Pool


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_policy_rejects_bad_limits():
    with pytest.raises(ValueError):
        HealthPolicy(max_age=0)
    with pytest.raises(ValueError):
        HealthPolicy(max_uses=0)


def test_old_resources_are_replaced():
    clock = FakeClock()
    pool = Pool(object, policy=HealthPolicy(max_age=30), clock=clock)
    first = pool.acquire()
    pool.release(first)
    clock.now += 31
    second = pool.acquire()
    assert second is not first
    assert pool.stats()["discarded"] == 1


def test_resources_are_retired_after_max_uses():
    pool = Pool(object, policy=HealthPolicy(max_uses=2))
    first = pool.acquire()
    pool.release(first)
    assert pool.acquire() is first
    pool.release(first)
    assert pool.acquire() is not first


def test_validator_failure_and_exception_discard():
    broken = set()

    def ping(resource):
        if resource in broken:
            raise OSError("connection reset")
        return True

    pool = Pool(object, policy=HealthPolicy(validator=ping))
    first = pool.acquire()
    pool.release(first)
    broken.add(first)
    assert pool.acquire() is not first
    assert HealthPolicy(validator=lambda r: False).validate(object()) is False
