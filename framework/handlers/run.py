"""Running a plan: each callable gets its values, in order, and the handler's arguments come out.

A :class:`Program` is a :class:`~framework.handlers.plan.Plan` made runnable, once per route;
:func:`run` loops over its steps and raises every problem as one ``RequestValidationError``.
"""

from __future__ import annotations

import contextlib
import functools
import typing
from collections.abc import Callable
from typing import Any

from framework.concurrency import run_in_threadpool
from framework.exceptions import RequestValidationError
from framework.handlers.compile import Dependant
from framework.handlers.params import SecurityScopes
from framework.handlers.plan import Plan, Step
from framework.handlers.read import (
    Context,
    Reader,
    body_reader,
    form_values,
    location_reader,
    read_json_body,
)
from framework.types import UNSET

__all__ = ["Program", "run"]

Gather = Callable[[Context, list[Any]], "dict[str, Any] | None"]
Steps = tuple[tuple[Gather, Callable[..., Any], bool], ...]


def _call(dependant: Dependant) -> tuple[Callable[..., Any], bool]:
    """What a step calls (sync ones in a worker thread) and whether it enters the exit stack."""
    manager = dependant.context_manager
    if manager is not None:
        if dependant.is_async:
            return manager, True
        return lambda **values: _Threaded(manager(**values)), True
    if dependant.is_async:
        return dependant.call, False
    return functools.partial(run_in_threadpool, dependant.call), False


def _readers(step: Step) -> list[Reader]:
    """What a step reads from the request, and the objects the framework hands it."""
    dependant = step.dependant
    readers = [location_reader(group) for group in dependant.groups]
    if dependant.body is not None:
        readers.append(body_reader(dependant.body))
    scopes = list(step.scopes)
    for name, make in (
        (dependant.connection_param, lambda ctx: ctx.request),  # or the WebSocket
        (dependant.response_param, Context.response),
        (dependant.background_param, Context.tasks),
        (dependant.scopes_param, lambda ctx: SecurityScopes(scopes)),
    ):
        if name is not None:
            readers.append(_injector(name, make))
    return readers


def _injector(name: str, make: Callable[[Context], Any]) -> Reader:
    def inject(ctx: Context, values: dict[str, Any]) -> None:
        values[name] = make(ctx)

    return inject


def _gather(step: Step, offset: int, final: bool = False) -> Gather:
    """A step's arguments, or None when one failed; the ``final`` step (the handler) raises."""
    inputs = tuple((name, slot + offset) for name, slot in step.inputs)
    # Path parameters whose converter already gave the declared type are passed on as they are.
    trusted = step.dependant.trusted_path
    readers = _readers(step)
    if not readers and not trusted:

        def gather_results(ctx: Context, results: list[Any]) -> dict[str, Any] | None:
            values = {}
            for name, slot in inputs:
                value = results[slot]
                if value is UNSET:
                    if final:
                        raise RequestValidationError(ctx.errors, body=ctx.parsed_body())
                    return None
                if name is not None:
                    values[name] = value
            return values

        return gather_results

    def gather(ctx: Context, results: list[Any]) -> dict[str, Any] | None:
        values = {}
        usable = True
        for name, slot in inputs:
            value = results[slot]
            if value is UNSET:
                usable = False
            elif name is not None:
                values[name] = value
        for name, alias in trusted:
            values[name] = ctx.scope["path_params"][alias]
        errors = ctx.errors
        before = len(errors)
        for read in readers:
            read(ctx, values)
        if usable and len(errors) == before:
            return values
        if final:
            raise RequestValidationError(errors, body=ctx.parsed_body())
        return None

    return gather


class Program:
    """A plan in the form :func:`run` loops over: ``steps``, a (gather, call, enters) step per
    callable before the handler (and the body's), and ``arguments``, the handler's own gather."""

    __slots__ = ("arguments", "plan", "steps")

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        offset = 1 if plan.bodies else 0
        steps = [(_gather(step, offset), *_call(step.dependant)) for step in plan.steps[:-1]]
        if plan.bodies:  # the body (or form) is read once, before any callable runs
            if plan.bodies[0].form:
                specs = [spec for body in plan.bodies for spec in body.specs]
                read = functools.partial(form_values, specs=specs)
            else:
                read = functools.partial(read_json_body, through_request=plan.connects)
            steps.insert(0, (lambda ctx, results: {"ctx": ctx}, read, False))
        self.steps: Steps = tuple(steps)
        #: The handler's arguments from the other steps' results; raises every problem found.
        self.arguments = typing.cast(
            Callable[[Context, list[Any]], dict[str, Any]],
            _gather(plan.steps[-1], offset, final=True),
        )


async def run(program: Program, ctx: Context) -> dict[str, Any]:
    """The one runner: each step before the handler gets its values and runs, in order (one whose
    values failed is not called: ``UNSET``); then the handler's arguments, or every problem."""
    results: list[Any] = []
    append = results.append
    for gather, call, enters in program.steps:
        values = gather(ctx, results)
        if values is None:
            append(UNSET)
        elif enters:
            append(await ctx.stack.enter_async_context(call(**values)))  # type: ignore[union-attr]
        else:
            append(await call(**values))
    return program.arguments(ctx, results)


class _Threaded:
    """A sync context manager (a ``yield`` dependency) entered and exited in a worker thread."""

    def __init__(self, manager: contextlib.AbstractContextManager[Any]) -> None:
        self.manager = manager

    async def __aenter__(self) -> Any:
        return await run_in_threadpool(self.manager.__enter__)

    async def __aexit__(self, *exc_info: Any) -> bool | None:
        return await run_in_threadpool(self.manager.__exit__, *exc_info)
