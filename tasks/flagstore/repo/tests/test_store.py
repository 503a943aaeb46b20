import os

import pytest

from flagstore import Flag, FlagStore


def test_missing_file_is_empty(tmp_path):
    store = FlagStore(tmp_path / "flags.txt").load()
    assert store.names() == []
    assert store.is_enabled("anything") is False


def test_save_and_reload(tmp_path):
    path = tmp_path / "flags.txt"
    store = FlagStore(path)
    store.set(Flag("new-checkout", enabled=True, rollout=10, segments=["staff"], description="One-page checkout"))
    store.set(Flag("search.v2"))
    store.save()
    reloaded = FlagStore(path).load()
    assert reloaded.names() == ["new-checkout", "search.v2"]
    assert reloaded.get("new-checkout") == store.get("new-checkout")
    assert not [name for name in os.listdir(tmp_path) if name.startswith(".flags-")]


def test_remove(tmp_path):
    store = FlagStore(tmp_path / "flags.txt")
    store.set(Flag("a"))
    store.remove("a")
    with pytest.raises(KeyError):
        store.get("a")


def test_store_is_enabled(tmp_path):
    store = FlagStore(tmp_path / "flags.txt")
    store.set(Flag("staff-only", enabled=True, rollout=0, segments=["staff"]))
    assert store.is_enabled("staff-only", user_id="u1", segments=["staff"])
    assert not store.is_enabled("staff-only", user_id="u1")
