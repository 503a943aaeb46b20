"""When may a pooled resource be handed out again?"""


class HealthPolicy:
    """Decides whether an idle resource is still fit for reuse.

    ``max_age``: seconds after creation past which a resource is retired.
    ``max_uses``: number of acquisitions after which a resource is retired.
    ``validator``: callable taking the resource and returning a truthy value when it is
    still usable (for example a ``SELECT 1`` ping); an exception counts as a failure.
    """

    def __init__(self, max_age=None, max_uses=None, validator=None):
        if max_age is not None and max_age <= 0:
            raise ValueError("max_age must be positive")
        if max_uses is not None and max_uses < 1:
            raise ValueError("max_uses must be at least 1")
        self.max_age = max_age
        self.max_uses = max_uses
        self.validator = validator

    def expired(self, created_at, uses, now):
        """True when the resource is too old or has been used too often."""
        if self.max_age is not None and now - created_at >= self.max_age:
            return True
        if self.max_uses is not None and uses >= self.max_uses:
            return True
        return False

    def validate(self, resource):
        """Run the validator, treating any exception as "not usable"."""
        if self.validator is None:
            return True
        try:
            return bool(self.validator(resource))
        except Exception:
            return False

    def is_reusable(self, created_at, uses, now, resource):
        return not self.expired(created_at, uses, now) and self.validate(resource)
