"""A dependency plan: a route's tree of callables flattened, once, into the order they run.

Dependencies come before the callables that need them, and a cached dependency (the same
callable with the same security scopes) runs once however many callables ask for it. The last
step is the handler. ``app.dependency_overrides`` are applied here, when the plan is made: a
route is prepared again when the overrides change, so a request never looks them up.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from framework.handlers.compile import Dependant, compile_override

__all__ = ["DependencyOverrides", "Plan", "Step"]


@dataclasses.dataclass(frozen=True)
class Step:
    """One callable of a plan: its dependant, where its dependencies' results are (the
    parameter that receives each, or None, and its slot among the results), and the security
    scopes required down to it."""

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
        #: Every callable the plan was made from, replaced ones included: the overrides whose
        #: change makes the plan out of date.
        self.calls = {dependant.call for dependant in root.walk()}
        self.calls.update(dependant.call for dependant in dependants)
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
        key = None
        if dependant.use_cache and not root:
            key = (dependant.call, frozenset(scopes))
            if key in self._slots:
                return self._slots[key]
        inputs = tuple((sub.name, self._add(sub, scopes)) for sub in dependant.dependencies)
        self.steps.append(Step(dependant, inputs, scopes))
        slot = len(self.steps) - 1
        if key is not None:
            self._slots[key] = slot
        return slot


class DependencyOverrides(dict[Callable[..., Any], Callable[..., Any]]):
    """``app.dependency_overrides``: a dict that tells ``on_change`` which keys changed, so
    that the routes using them are prepared again (no request pays for a lookup)."""

    def __init__(self, on_change: Callable[[set[Any]], None]) -> None:
        super().__init__()
        self._on_change = on_change

    def __setitem__(self, key: Callable[..., Any], value: Callable[..., Any]) -> None:
        super().__setitem__(key, value)
        self._on_change({key})

    def __delitem__(self, key: Callable[..., Any]) -> None:
        super().__delitem__(key)
        self._on_change({key})

    def _changed(self, keys: set[Any]) -> None:
        if keys:
            self._on_change(keys)

    def clear(self) -> None:
        keys = set(self)
        super().clear()
        self._changed(keys)

    def update(self, *args: Any, **kwargs: Any) -> None:
        before = dict(self)
        super().update(*args, **kwargs)
        self._changed({key for key in self if key not in before or before[key] is not self[key]})

    def pop(self, key: Any, *default: Any) -> Any:
        found = key in self
        value = super().pop(key, *default)
        self._changed({key} if found else set())
        return value

    def popitem(self) -> tuple[Callable[..., Any], Callable[..., Any]]:
        item = super().popitem()
        self._changed({item[0]})
        return item

    def setdefault(self, key: Any, default: Any = None) -> Any:
        found = key in self
        value = super().setdefault(key, default)
        self._changed(set() if found else {key})
        return value

    def __ior__(self, other: Any) -> DependencyOverrides:  # type: ignore[override,misc]
        self.update(other)
        return self
