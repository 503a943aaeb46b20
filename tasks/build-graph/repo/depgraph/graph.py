"""The graph itself."""


class UnknownTarget(KeyError):
    pass


class CycleError(ValueError):
    def __init__(self, cycle):
        super().__init__("dependency cycle: " + " -> ".join(cycle + cycle[:1]))
        self.cycle = cycle


class DepGraph:
    """Targets and "needs" edges: ``add_dependency(a, b)`` means ``b`` is built before ``a``."""

    def __init__(self):
        self._deps = {}
        self._rdeps = {}

    def add_target(self, target):
        if not target or any(c.isspace() for c in target):
            raise ValueError(f"invalid target name {target!r}")
        self._deps.setdefault(target, set())
        self._rdeps.setdefault(target, set())

    def add_dependency(self, target, dependency):
        if target == dependency:
            raise CycleError([target])
        self.add_target(target)
        self.add_target(dependency)
        self._deps[target].add(dependency)
        self._rdeps[dependency].add(target)

    def __contains__(self, target):
        return target in self._deps

    def __len__(self):
        return len(self._deps)

    def _check(self, target):
        if target not in self._deps:
            raise UnknownTarget(target)

    def targets(self):
        return sorted(self._deps)

    def dependencies(self, target):
        """Direct dependencies of ``target``, sorted."""
        self._check(target)
        return sorted(self._deps[target])

    def dependents(self, target):
        """Targets that directly depend on ``target``, sorted."""
        self._check(target)
        return sorted(self._rdeps[target])

    def edge_count(self):
        return sum(len(deps) for deps in self._deps.values())
