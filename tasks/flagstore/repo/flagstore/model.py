"""The flag model."""

import re
from dataclasses import dataclass, field

NAME = re.compile(r"^[a-z0-9][a-z0-9._-]*$")


@dataclass
class Flag:
    """A feature flag.

    ``rollout`` is the percentage (0-100) of users who get the feature when it is enabled;
    ``segments`` are user segments (``"beta"``, ``"staff"``...) that always get it.
    """

    name: str
    enabled: bool = False
    rollout: int = 100
    segments: list = field(default_factory=list)
    description: str = ""

    def __post_init__(self):
        if not NAME.match(self.name):
            raise ValueError(f"invalid flag name: {self.name!r}")
        if not 0 <= self.rollout <= 100:
            raise ValueError(f"rollout must be between 0 and 100, got {self.rollout}")
        self.segments = list(self.segments)
        for segment in self.segments:
            if not NAME.match(segment):
                raise ValueError(f"invalid segment name: {segment!r}")
