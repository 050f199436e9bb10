"""Every event type the hub's code appends, read from the code itself: each ``NewEvent(type, …)``
and each ``Schedule(name, cron, event_type, …)`` under ``crossdock/`` (the engine, benchmarks and
sandboxes aside), its type argument resolved to the strings it can take.

A type argument resolves when it is a string literal, a module constant (``RECEIVED``,
``ev.FAILED``, imported or not), a conditional of those, a local variable assigned from those in
the same function, or a parameter of the enclosing function — then every call of that function
(found by what the callee's name evaluates to in the caller's module) is resolved the same way.
``<event>.type`` re-keys an event made elsewhere and adds no type. Anything else is reported as
unresolved with its place, so a new way of naming a type fails loudly rather than slipping by.
"""

from __future__ import annotations

import ast
import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = ("crossdock/engine/", "crossdock/bench/", "crossdock/sandbox/")
MAKERS = {"NewEvent": (0, "type"), "Schedule": (2, "event_type")}
MAX_DEPTH = 8

Function = ast.FunctionDef | ast.AsyncFunctionDef


class Unresolved(Exception):
    pass


@dataclass
class Source:
    path: str  # crossdock/flows/x.py
    name: str  # crossdock.flows.x
    tree: ast.Module
    parents: dict[ast.AST, ast.AST]
    _module: ModuleType | None = None

    @property
    def module(self) -> ModuleType:
        if self._module is None:
            self._module = importlib.import_module(self.name)
        return self._module

    def enclosing(self, node: ast.AST) -> Function | None:
        current = self.parents.get(node)
        while current is not None and not isinstance(current, Function):
            current = self.parents.get(current)
        return current


@dataclass
class Found:
    types: dict[str, set[str]] = field(default_factory=dict)  # type -> places
    unresolved: dict[str, str] = field(default_factory=dict)  # place -> why


def source_of(path: Path, root: Path) -> Source:
    """A module's source, named by its path under ``root`` (a directory on ``sys.path``)."""
    rel = path.relative_to(root).as_posix()
    tree = ast.parse(path.read_text(encoding="utf-8"), rel)
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    name = rel.removesuffix(".py").removesuffix("/__init__").replace("/", ".")
    return Source(rel, name, tree, parents)


def _sources() -> list[Source]:
    return [
        source_of(path, ROOT)
        for path in sorted((ROOT / "crossdock").rglob("*.py"))
        if not path.relative_to(ROOT).as_posix().startswith(SKIPPED)
    ]


def _calls(source: Source) -> Iterator[ast.Call]:
    for node in ast.walk(source.tree):
        if isinstance(node, ast.Call):
            yield node


def _callee_name(call: ast.Call) -> str | None:
    func = call.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _argument(call: ast.Call, index: int, name: str) -> ast.expr | None:
    if index < len(call.args) and not any(isinstance(a, ast.Starred) for a in call.args):
        return call.args[index]
    return next((k.value for k in call.keywords if k.arg == name), None)


def _evaluate(source: Source, expr: ast.expr) -> Any:
    """The value of a name or attribute chain in the module's globals (NameError if local)."""
    return eval(compile(ast.Expression(expr), source.path, "eval"), vars(source.module))


class Resolver:
    def __init__(self, extra: list[Source] | None = None) -> None:
        self.sources = [*_sources(), *(extra or [])]

    def resolve(self, source: Source, expr: ast.expr, depth: int = 0) -> set[str]:
        if depth > MAX_DEPTH:
            raise Unresolved("resolution too deep")
        if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
            return {expr.value}
        if isinstance(expr, ast.IfExp):
            return self.resolve(source, expr.body, depth + 1) | self.resolve(
                source, expr.orelse, depth + 1
            )
        if isinstance(expr, ast.Name) and self._is_local(source, expr):
            return self._local(source, expr, depth)
        if isinstance(expr, ast.Name | ast.Attribute):
            try:
                value = _evaluate(source, expr)
            except (NameError, AttributeError):
                pass
            else:
                if isinstance(value, str):
                    return {value}
                raise Unresolved(f"{ast.unparse(expr)} is not a string")
            if isinstance(expr, ast.Attribute) and expr.attr == "type":
                return set()  # re-keys an event made (and counted) elsewhere
        raise Unresolved(f"cannot read {ast.unparse(expr)!r}")

    @staticmethod
    def _is_local(source: Source, name: ast.Name) -> bool:
        """Whether the name is a parameter or a variable of its function (Python's scoping)."""
        function = source.enclosing(name)
        if function is None:
            return False
        args = function.args
        if name.id in {p.arg for p in (*args.posonlyargs, *args.args, *args.kwonlyargs)}:
            return True
        return any(
            isinstance(node, ast.Name) and node.id == name.id and isinstance(node.ctx, ast.Store)
            for node in ast.walk(function)
        )

    def _local(self, source: Source, name: ast.Name, depth: int) -> set[str]:
        function = source.enclosing(name)
        if function is None:
            raise Unresolved(f"{name.id} is not defined")
        params = [*function.args.posonlyargs, *function.args.args]
        names = [p.arg for p in params]
        if name.id in names or name.id in [p.arg for p in function.args.kwonlyargs]:
            return self._parameter(source, function, name.id, depth)
        assigned = [
            node.value
            for node in ast.walk(function)
            if isinstance(node, ast.Assign)
            and any(isinstance(t, ast.Name) and t.id == name.id for t in node.targets)
        ]
        if not assigned:
            raise Unresolved(f"{name.id} is assigned in a way this reader does not follow")
        out: set[str] = set()
        for value in assigned:
            out |= self.resolve(source, value, depth + 1)
        return out

    def _parameter(self, source: Source, function: Function, param: str, depth: int) -> set[str]:
        positional = [p.arg for p in (*function.args.posonlyargs, *function.args.args)]
        index = positional.index(param) if param in positional else 10_000
        if positional and positional[0] in ("self", "cls"):
            index -= 1
        target = getattr(source.module, function.name, None)
        out: set[str] = set()
        sites = 0
        for caller in self.sources:
            for call in _calls(caller):
                if _callee_name(call) != function.name:
                    continue
                if target is not None:
                    try:
                        if _evaluate(caller, call.func) is not target:
                            continue
                    except (NameError, AttributeError):
                        continue
                elif caller is not source:
                    continue
                arg = _argument(call, index, param)
                if arg is None:
                    raise Unresolved(f"a call of {function.name} at {caller.path}:{call.lineno}")
                sites += 1
                out |= self.resolve(caller, arg, depth + 1)
        if not sites:
            raise Unresolved(f"{function.name}({param}) is never called with a type")
        return out

    def published(self) -> Found:
        found = Found()
        for source in self.sources:
            for call in _calls(source):
                maker = MAKERS.get(_callee_name(call) or "")
                if maker is None:
                    continue
                place = f"{source.path}:{call.lineno}"
                arg = _argument(call, *maker)
                if arg is None:
                    found.unresolved[place] = "no type argument"
                    continue
                try:
                    types = self.resolve(source, arg)
                except Unresolved as exc:
                    function = source.enclosing(call)
                    where = f"{source.path}:{function.name if function else '<module>'}"
                    found.unresolved[where] = str(exc)
                    continue
                for name in types:
                    found.types.setdefault(name, set()).add(place)
        return found


def published_types(extra: list[Source] | None = None) -> Found:
    return Resolver(extra).published()
