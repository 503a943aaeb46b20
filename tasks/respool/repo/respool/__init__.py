"""respool: a small thread-safe pool for expensive resources (connections, sessions, clients)."""

from .errors import PoolClosed, PoolError, PoolExhausted
from .health import HealthPolicy
from .lease import Lease
from .pool import Pool

__all__ = ["HealthPolicy", "Lease", "Pool", "PoolClosed", "PoolError", "PoolExhausted"]
__version__ = "0.6.2"
