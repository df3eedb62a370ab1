"""A dependency plan: a route's tree of callables flattened, once, into the order they run:
dependencies first, a cached one (same callable and scopes) once, the handler last.
``app.dependency_overrides`` are applied here, so a request never looks them up.
"""

from __future__ import annotations

import dataclasses
from collections import UserDict
from collections.abc import Callable, Mapping
from typing import Any

from framework.handlers.compile import Dependant, compile_override

__all__ = ["DependencyOverrides", "Plan", "Step"]


@dataclasses.dataclass(frozen=True)
class Step:
    """One callable of a plan: its dependant, its dependencies' results as (parameter or None,
    slot among the results), and the security scopes required down to it."""

    dependant: Dependant
    inputs: tuple[tuple[str | None, int], ...]
    scopes: tuple[str, ...]


class Plan:
    """The steps of ``root``'s tree, with ``overrides`` (replaced callable -> replacement)."""

    def __init__(self, root: Dependant, overrides: Mapping[Any, Any] | None = None) -> None:
        self.root = root
        self.steps: list[Step] = []
        self._slots: dict[Any, int] = {}
        self._overrides = overrides or {}
        self._add(root, (), root=True)
        dependants = [step.dependant for step in self.steps]
        #: Every callable the plan was made from, replaced ones included (for override changes).
        self.calls = {dependant.call for dependant in (*root.walk(), *dependants)}
        #: Whether a ``yield`` dependency needs an exit stack.
        self.exits = any(dependant.context_manager is not None for dependant in dependants)
        #: The body parameters of every step, if any step has one (read once, before the steps).
        self.bodies = [dependant.body for dependant in dependants if dependant.body is not None]
        #: Whether a callable is handed the connection (the ``Request``).
        self.connects = any(dependant.connection_param is not None for dependant in dependants)

    def _add(self, dependant: Dependant, parent_scopes: tuple[str, ...], root: bool = False) -> int:
        replacement = None if root else self._overrides.get(dependant.call)
        if replacement is not None:
            dependant = compile_override(dependant, replacement)
        scopes = (*parent_scopes, *dependant.scopes)
        key = (dependant.call, frozenset(scopes)) if dependant.use_cache and not root else None
        if key in self._slots:
            return self._slots[key]
        inputs = tuple((sub.name, self._add(sub, scopes)) for sub in dependant.dependencies)
        self.steps.append(Step(dependant, inputs, scopes))
        if key is not None:
            self._slots[key] = len(self.steps) - 1
        return len(self.steps) - 1


class DependencyOverrides(UserDict[Callable[..., Any], Callable[..., Any]]):
    """``app.dependency_overrides``: a mapping that tells ``on_change`` which keys changed, so
    that the routes using them are prepared again (no request pays for a lookup)."""

    def __init__(
        self,
        initial: Mapping[Any, Any] | None = None,
        on_change: Callable[[set[Any]], None] | None = None,
    ) -> None:
        self._on_change = on_change or (lambda keys: None)
        super().__init__()
        self.data.update(initial or {})

    def __setitem__(self, key: Callable[..., Any], value: Callable[..., Any]) -> None:
        self.data[key] = value
        self._on_change({key})

    def __delitem__(self, key: Callable[..., Any]) -> None:
        del self.data[key]
        self._on_change({key})

    def __ior__(self, other: Any) -> DependencyOverrides:  # type: ignore[override,misc]
        self.update(other)  # UserDict's own ``|=`` would bypass __setitem__
        return self
