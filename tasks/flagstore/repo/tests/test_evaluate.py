from flagstore import Flag, bucket, is_enabled


def test_bucket_is_stable_and_in_range():
    assert bucket("new-checkout", "user-42") == bucket("new-checkout", "user-42")
    assert all(0 <= bucket("f", f"user-{i}") < 100 for i in range(200))


def test_disabled_flag_is_off_for_everyone():
    flag = Flag("f", enabled=False, segments=["staff"])
    assert not is_enabled(flag, "u1", segments=["staff"])


def test_rollout_percentage_is_roughly_respected():
    flag = Flag("f", enabled=True, rollout=30)
    on = sum(is_enabled(flag, f"user-{i}") for i in range(2000))
    assert 500 < on < 700


def test_rollout_extremes_and_anonymous_users():
    assert is_enabled(Flag("f", enabled=True, rollout=100))
    assert not is_enabled(Flag("f", enabled=True, rollout=99))
    assert not any(is_enabled(Flag("f", enabled=True, rollout=0), f"u{i}") for i in range(100))
