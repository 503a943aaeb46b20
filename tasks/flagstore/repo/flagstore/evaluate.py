"""Deciding whether a flag is on for a given user."""

import hashlib


def bucket(flag_name, user_id):
    """A stable number in ``range(100)`` for this user and flag.

    Hashing the flag name with the user id keeps a user's buckets independent across flags,
    so the same 10% of users do not get every experiment.
    """
    digest = hashlib.sha1(f"{flag_name}:{user_id}".encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100


def is_enabled(flag, user_id=None, segments=()):
    """True when ``flag`` is on for this user.

    Disabled flags are off for everyone. Users in one of the flag's segments always get it;
    everyone else gets it when their bucket falls under the rollout percentage. Without a
    ``user_id`` only a 100% rollout counts as on.
    """
    if not flag.enabled:
        return False
    if set(segments) & set(flag.segments):
        return True
    if flag.rollout >= 100:
        return True
    if user_id is None:
        return False
    return bucket(flag.name, user_id) < flag.rollout
