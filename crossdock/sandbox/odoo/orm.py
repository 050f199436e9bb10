"""A small ORM with Odoo's external behaviour: fields, x2many commands, defaults, domains, reads.

Models are declared as :class:`ModelSpec` (fields plus hooks and public methods). :class:`Env` runs
one call: it knows the user, the context (``allowed_company_ids``, ``active_test``, ``default_*``)
and the transaction, and implements the generic methods every model answers over RPC
(``search``, ``search_read``, ``search_count``, ``read``, ``create``, ``write``, ``unlink``,
``fields_get``, ``name_search``, ``default_get``), with Odoo's errors:

* unknown field → ``ValueError: Invalid field 'x' on model 'y'``;
* missing required field → ``ValidationError`` ("a mandatory field is not set", model and field);
* a many2one to a record that does not exist → ``MissingError`` naming it;
* records of companies outside ``allowed_company_ids`` are invisible to searches, and asking for a
  company the user may not use is an ``AccessError``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from crossdock.sandbox.odoo.domain import Members, evaluate
from crossdock.sandbox.odoo.errors import (
    AccessError,
    AttributeRpcError,
    MissingError,
    UserError,
    ValidationError,
    ValueRpcError,
)
from crossdock.sandbox.odoo.store import Record, Transaction

__all__ = ["GENERIC_METHODS", "Env", "F", "ModelSpec", "Registry", "now_str"]

Hook = Callable[["Env", Record, dict[str, Any]], None]
Method = Callable[..., Any]


def now_str() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S")


_INDEXED: dict[type | None, tuple[str, ...]] = {
    str: ("char", "selection"),
    int: ("many2one", "integer"),
}
"""Field types whose equality leaves use the store's indexes, by the type of the target."""


@dataclass(frozen=True)
class F:
    """A field: ``type`` is char, text, integer, float, boolean, selection, date, datetime,
    many2one, one2many, many2many or json."""

    type: str
    relation: str | None = None
    inverse: str | None = None
    required: bool = False
    default: Any = None
    compute: Callable[[Env, Record], Any] | None = None
    related: str | None = None
    string: str = ""
    selection: tuple[str, ...] = ()
    since: int = 16
    until: int = 99
    readonly: bool = False


@dataclass
class ModelSpec:
    name: str
    description: str
    fields: dict[str, F]
    rec_name: str = "name"
    order: str = "id"
    display: Callable[[Env, Record], str] | None = None
    before_create: Hook | None = None
    after_create: Callable[[Env, Record], None] | None = None
    before_write: Hook | None = None
    before_unlink: Callable[[Env, Record], None] | None = None
    methods: dict[str, Method] = field(default_factory=dict)
    """Public methods on records: ``fn(env, ids, **params)``."""
    model_methods: dict[str, Method] = field(default_factory=dict)
    """Public ``@api.model`` methods: ``fn(env, **params)``."""
    check_company: tuple[str, ...] = ()
    """Many2one fields whose record must belong to the record's company (or to none)."""


class Registry:
    """The models of one simulated Odoo version."""

    def __init__(self, specs: Iterable[ModelSpec], version: int) -> None:
        self.version = version
        self.specs: dict[str, ModelSpec] = {}
        for spec in specs:
            kept = {n: f for n, f in spec.fields.items() if f.since <= version <= f.until}
            kept.setdefault("id", F("integer", readonly=True))
            kept.setdefault("display_name", F("char", compute=_display_name, readonly=True))
            kept.setdefault("create_date", F("datetime", readonly=True))
            kept.setdefault("write_date", F("datetime", readonly=True))
            # A version's view is a copy: the given specs may be module-level definitions shared
            # by every registry of the process (payments' models), so narrowing them in place
            # would hide a later version's fields from every registry built after this one.
            self.specs[spec.name] = replace(spec, fields=kept)
        self.inverses: dict[tuple[str, str], list[tuple[str, str]]] = {}
        for spec in self.specs.values():
            for fname, f in spec.fields.items():
                if f.type == "one2many" and f.relation and f.inverse and f.compute is None:
                    self.inverses.setdefault((f.relation, f.inverse), []).append((spec.name, fname))


def _display_name(env: Env, record: Record) -> str:
    return env.display_name(record["__model__"], record)


def _mandatory(spec: ModelSpec, fname: str) -> ValidationError:
    label = spec.fields[fname].string or fname.replace("_", " ").title()
    return ValidationError(
        "The operation cannot be completed:\n"
        "- Create/update: a mandatory field is not set.\n"
        "- Delete: another model requires the record being deleted. If possible, archive it "
        "instead.\n\n"
        f"Model: {spec.description} ({spec.name})\nField: {label} ({fname})\n"
    )


class Env:
    """The environment of one call (user, context, transaction)."""

    def __init__(
        self, registry: Registry, tx: Transaction, uid: int, context: Mapping[str, Any] | None
    ) -> None:
        self.registry = registry
        self.tx = tx
        self.uid = uid
        self.context: dict[str, Any] = dict(context or {})
        self.version = registry.version
        self._companies: list[int] | None = None

    def with_context(self, **values: Any) -> Env:
        env = Env(self.registry, self.tx, self.uid, {**self.context, **values})
        return env

    # ------------------------------------------------------------------ records

    def spec(self, model: str) -> ModelSpec:
        spec = self.registry.specs.get(model)
        if spec is None:
            raise UserError(f"Object {model} doesn't exist")
        return spec

    def table(self, model: str) -> dict[int, Record]:
        return self.tx.store.table(model)

    def rec(self, model: str, rid: int) -> Record:
        record = self.table(model).get(int(rid))
        if record is None:
            raise MissingError(
                "Record does not exist or has been deleted.\n"
                f"(Record: {model}({rid},), User: {self.uid})"
            )
        return record

    def records(self, model: str, ids: Iterable[int]) -> list[Record]:
        return [self.rec(model, i) for i in ids]

    def get(self, model: str, record: Record, fname: str) -> Any:
        """The value of a field: stored, computed or related (many2one as an id)."""
        f = self.spec(model).fields.get(fname)
        if f is None:
            raise ValueRpcError(f"Invalid field {fname!r} on model {model!r}")
        if f.compute is not None:
            return f.compute(self, record)
        if f.related is not None:
            values = self.path_values(model, record, f.related)
            return values[0] if values else None
        value = record.get(fname)
        if value is None:
            if f.type in ("one2many", "many2many"):
                return []
            if f.type == "float":
                return 0.0
            if f.type == "integer":
                return 0
            if f.type == "boolean":
                return False
        return value

    def path_values(self, model: str, record: Record, path: str) -> list[Any]:
        current: list[tuple[str, Record]] = [(model, record)]
        parts = path.split(".")
        for index, part in enumerate(parts):
            values: list[Any] = []
            last = index == len(parts) - 1
            next_records: list[tuple[str, Record]] = []
            for m, r in current:
                f = self.spec(m).fields.get(part)
                if f is None:
                    raise ValueRpcError(f"Invalid field {part!r} on model {m!r}")
                value = self.get(m, r, part)
                if last:
                    if f.type in ("one2many", "many2many"):
                        values.extend(value or [])
                    else:
                        values.append(value)
                    continue
                if f.relation is None:
                    raise ValueRpcError(f"Invalid path {path!r} on model {model!r}")
                ids = value if isinstance(value, list) else ([value] if value else [])
                for rid in ids:
                    target = self.table(f.relation).get(int(rid))
                    if target is not None:
                        next_records.append((f.relation, target))
            if last:
                return values
            current = next_records
        return []

    def display_name(self, model: str, record: Record) -> str:
        spec = self.spec(model)
        if spec.display is not None:
            return spec.display(self, record)
        value = record.get(spec.rec_name)
        return str(value) if value not in (None, False) else f"{model},{record['id']}"

    # ------------------------------------------------------------------ companies

    def user(self) -> Record:
        return self.rec("res.users", self.uid)

    def allowed_companies(self) -> list[int]:
        if self._companies is None:
            user = self.user()
            allowed = self.context.get("allowed_company_ids")
            if allowed:
                ids = [int(c) for c in allowed]
                if not set(ids) <= set(user.get("company_ids") or []):
                    raise AccessError("Access to unauthorized or invalid companies.")
                self._companies = ids
            else:
                self._companies = [int(user["company_id"])]
        return self._companies

    @property
    def company_id(self) -> int:
        return self.allowed_companies()[0]

    def visible(self, model: str, record: Record) -> bool:
        spec = self.spec(model)
        f = spec.fields.get("company_id")
        if f is None or f.type != "many2one" or model in ("res.users", "res.company"):
            return True
        company = self.get(model, record, "company_id")
        return company in (None, False) or int(company) in self.allowed_companies()

    # ------------------------------------------------------------------ search

    def search(
        self,
        model: str,
        domain: Sequence[Any] | None = None,
        offset: int = 0,
        limit: int | None = None,
        order: str | None = None,
    ) -> list[int]:
        spec = self.spec(model)
        domain = self._expand(model, list(domain or []))
        active_test = self.context.get("active_test", True)
        mentions_active = any(isinstance(t, list | tuple) and str(t[0]) == "active" for t in domain)
        check_active = "active" in spec.fields and active_test and not mentions_active

        def resolve(record: Record, path: str) -> tuple[list[Any], bool]:
            first = path.split(".")[0]
            f = spec.fields.get(first)
            if f is None:
                raise ValueRpcError(f"Invalid field {model}.{first} in leaf {path!r}")
            relational = f.relation is not None and "." not in path
            return self.path_values(model, record, path), relational

        def matches(record: Record) -> bool:
            if check_active and record.get("active") is False:
                return False
            if not self.visible(model, record):
                return False
            record["__model__"] = model
            return evaluate(record, domain, resolve)

        table = self.table(model)
        candidates = self._candidates(model, domain)
        by_id = _id_order(order or spec.order)
        wanted = offset + limit if limit else None
        if (
            by_id is not None
            and wanted is not None
            and (candidates is None or len(candidates) > 4 * wanted)
        ):
            # keyset paging: walk the ids in order from the page's bound, stop when it is full
            low, high = _id_bounds(domain)
            ordered, positions = self.tx.store.id_range(model, low, high)
            hits: list[int] = []
            for position in reversed(positions) if by_id == "desc" else positions:
                rid = ordered[position]
                record = table.get(rid)
                if record is None or (candidates is not None and rid not in candidates):
                    continue
                if matches(record):
                    hits.append(rid)
                    if len(hits) == wanted:
                        break
            return hits[offset:]
        records = (
            table.values()
            if candidates is None
            else [table[rid] for rid in sorted(candidates) if rid in table]
        )
        found = self._sort(model, [r for r in records if matches(r)], order or spec.order)
        ids = [int(r["id"]) for r in found]
        ids = ids[offset:]
        return ids[:limit] if limit else ids

    def _candidates(self, model: str, domain: list[Any]) -> set[int] | None:
        """The only ids that can match a conjunction with equality leaves on stored scalar
        fields (from the store's indexes); None when the domain offers no such leaf. The whole
        domain is still evaluated on the candidates."""
        if any(item in ("|", "!") for item in domain):
            return None
        fields = self.spec(model).fields
        found: set[int] | None = None
        for term in domain:
            if not isinstance(term, list | tuple) or len(term) != 3 or term[1] not in ("=", "in"):
                continue
            path, target = str(term[0]), term[2]
            targets = (
                list(target) if term[1] == "in" and isinstance(target, list | tuple) else [target]
            )
            f = fields.get(path)
            if path == "id":
                ids = {int(t) for t in targets if isinstance(t, int) and not isinstance(t, bool)}
                if len(ids) != len(targets):
                    continue
            elif (
                f is not None
                and f.compute is None
                and f.related is None
                and f.type in _INDEXED.get(type(targets[0]) if targets else None, ())
                and all(type(t) is type(targets[0]) and t not in ("", 0) for t in targets)
            ):
                ids = self.tx.store.lookup(model, path, targets)
            else:
                continue
            found = ids if found is None else found & ids
        return found

    def _expand(self, model: str, domain: list[Any]) -> list[Any]:
        """Turn ``child_of``/``parent_of`` leaves into ``in`` leaves."""
        result: list[Any] = []
        for term in domain:
            if (
                isinstance(term, list | tuple)
                and len(term) == 3
                and term[1] in ("child_of", "parent_of")
            ):
                fname = str(term[0])
                f = self.spec(model).fields.get(fname)
                target = f.relation if f is not None and f.relation else model
                roots = term[2] if isinstance(term[2], list) else [term[2]]
                ids = self._family(target, [int(r) for r in roots], term[1] == "child_of")
                result.append([fname if fname != "id" else "id", "in", ids])
            elif isinstance(term, list | tuple) and len(term) == 3 and term[1] in ("in", "not in"):
                operand = term[2] if isinstance(term[2], list | tuple) else [term[2]]
                result.append([term[0], term[1], Members(operand)])
            else:
                result.append(term)
        return result

    def _family(self, model: str, roots: list[int], down: bool) -> list[int]:
        parent_field = "location_id" if model == "stock.location" else "parent_id"
        table = self.table(model)
        found = set(roots)
        changed = True
        while changed:
            changed = False
            for rid, record in table.items():
                parent = record.get(parent_field)
                if down and parent in found and rid not in found:
                    found.add(rid)
                    changed = True
                if not down and rid in found and parent and parent not in found:
                    found.add(int(parent))
                    changed = True
        return sorted(found)

    def _sort(self, model: str, records: list[Record], order: str) -> list[Record]:
        for part in reversed([p.strip() for p in order.split(",") if p.strip()]):
            bits = part.split()
            fname, desc = bits[0], len(bits) > 1 and bits[1].lower() == "desc"
            if fname not in self.spec(model).fields and fname != "id":
                raise ValueRpcError(f"Invalid field {fname!r} on model {model!r}")

            def key(r: Record, fname: str = fname) -> tuple[int, Any]:
                value = r.get("id") if fname == "id" else self.get(model, r, fname)
                return (0, value) if value not in (None, False) else (1, 0)

            records.sort(key=key, reverse=desc)
        return records

    # ------------------------------------------------------------------ read

    def format(self, model: str, f: F, value: Any) -> Any:
        if f.type == "many2one":
            if not value:
                return False
            target = self.table(str(f.relation)).get(int(value))
            if target is None:
                return False
            target["__model__"] = f.relation
            return [int(value), self.display_name(str(f.relation), target)]
        if f.type in ("one2many", "many2many"):
            return list(value or [])
        if value is None:
            return 0.0 if f.type == "float" else (0 if f.type == "integer" else False)
        if f.type == "float":
            return float(value)
        return value

    def read(
        self, model: str, ids: Sequence[int], fields: Sequence[str] | None
    ) -> list[dict[str, Any]]:
        spec = self.spec(model)
        names = list(fields) if fields else [n for n in spec.fields if n != "display_name"]
        for name in names:
            if name not in spec.fields and name != "id":
                raise ValueRpcError(f"Invalid field {name!r} on model {model!r}")
        rows = []
        for rid in ids:
            record = self.rec(model, rid)
            record["__model__"] = model
            row: dict[str, Any] = {"id": int(rid)}
            for name in names:
                if name == "id":
                    continue
                row[name] = self.format(model, spec.fields[name], self.get(model, record, name))
            rows.append(row)
        return rows

    # ------------------------------------------------------------------ write

    def _convert(self, model: str, fname: str, f: F, value: Any) -> Any:
        if f.type == "many2one":
            if value in (False, None, 0):
                return None
            if isinstance(value, list | tuple):
                value = value[0]
            rid = int(value)
            self.rec(str(f.relation), rid)
            return rid
        if f.type == "integer":
            try:
                return int(value or 0)
            except (TypeError, ValueError):
                raise ValueRpcError(f"invalid literal for int() with base 10: {value!r}") from None
        if f.type == "float":
            try:
                return float(value or 0.0)
            except (TypeError, ValueError):
                raise ValueRpcError(f"could not convert string to float: {value!r}") from None
        if f.type == "boolean":
            return bool(value)
        if f.type == "selection":
            if value in (False, None):
                return None
            if f.selection and value not in f.selection:
                raise ValueRpcError(f"Wrong value for {model}.{fname}: {value!r}")
            return value
        if f.type in ("char", "text", "date", "datetime"):
            return None if value in (False, None) else str(value)
        return value

    def _x2many(
        self, model: str, rid: int, fname: str, f: F, commands: Any, current: list[int]
    ) -> list[int]:
        """Apply x2many commands; returns the new id list (one2many children are written)."""
        ids = list(current)
        relation = str(f.relation)
        if commands is False or commands is None:
            commands = [(5,)] if f.type == "many2many" else []
        for command in commands or []:
            if isinstance(command, int):
                command = (4, command)
            op = command[0]
            if op == 0:
                vals = dict(command[2])
                if f.type == "one2many":
                    vals[str(f.inverse)] = rid
                [new] = self.create(relation, [vals])
                if new not in ids:
                    ids.append(new)
            elif op == 1:
                self.write(relation, [int(command[1])], dict(command[2]))
            elif op == 2:
                self.unlink(relation, [int(command[1])])
                ids = [i for i in ids if i != int(command[1])]
            elif op == 3:
                ids = [i for i in ids if i != int(command[1])]
                if f.type == "one2many":
                    self.unlink(relation, [int(command[1])])
            elif op == 4:
                self.rec(relation, int(command[1]))
                if int(command[1]) not in ids:
                    ids.append(int(command[1]))
                    if f.type == "one2many":
                        self.write(relation, [int(command[1])], {str(f.inverse): rid})
            elif op == 5:
                if f.type == "one2many":
                    self.unlink(relation, ids)
                ids = []
            elif op == 6:
                new_ids = [int(i) for i in command[2]]
                for i in new_ids:
                    self.rec(relation, i)
                ids = new_ids
            else:
                raise ValueRpcError(f"Invalid x2many command {command!r}")
        return ids

    def _link(self, model: str, rid: int, fname: str, old: Any, new: Any) -> None:
        for parent_model, o2m in self.registry.inverses.get((model, fname), []):
            if old:
                parent = self.table(parent_model).get(int(old))
                if parent is not None:
                    self.tx.update(
                        parent_model,
                        int(old),
                        {o2m: [i for i in parent.get(o2m) or [] if i != rid]},
                    )
            if new:
                parent = self.rec(parent_model, int(new))
                children = list(parent.get(o2m) or [])
                if rid not in children:
                    self.tx.update(parent_model, int(new), {o2m: [*children, rid]})

    def defaults(self, model: str, names: Iterable[str] | None = None) -> dict[str, Any]:
        spec = self.spec(model)
        values: dict[str, Any] = {}
        for name in names if names is not None else spec.fields:
            f = spec.fields.get(name)
            if f is None or f.compute is not None:
                continue
            key = f"default_{name}"
            if key in self.context:
                values[name] = self.context[key]
            elif f.default is not None:
                values[name] = f.default(self) if callable(f.default) else f.default
        return values

    def create(self, model: str, vals_list: Sequence[Mapping[str, Any]]) -> list[int]:
        spec = self.spec(model)
        ids = []
        for raw in vals_list:
            if not isinstance(raw, Mapping):
                raise ValueRpcError(f"create() expects dicts, got {type(raw).__name__}")
            for name in raw:
                if name not in spec.fields:
                    raise ValueRpcError(f"Invalid field {name!r} on model {model!r}")
            vals = {**self.defaults(model, [n for n in spec.fields if n not in raw]), **raw}
            rid = self.tx.next_id(model)
            record: Record = {"id": rid, "create_date": now_str(), "write_date": now_str()}
            later: dict[str, Any] = {}
            for name, value in vals.items():
                f = spec.fields[name]
                if f.compute is not None or f.related is not None:
                    continue
                if f.type in ("one2many", "many2many"):
                    later[name] = value
                else:
                    record[name] = self._convert(model, name, f, value)
            if spec.before_create is not None:
                spec.before_create(self, record, dict(vals))
            for name, f in spec.fields.items():
                if (
                    f.required
                    and f.type not in ("one2many", "many2many")
                    and record.get(name) in (None, "", False)
                    and f.type != "boolean"
                    and f.compute is None
                ):
                    raise _mandatory(spec, name)
            record["__model__"] = model
            self.tx.insert(model, record)
            self._check_company(spec, record)
            for name, f in spec.fields.items():
                if f.type == "many2one" and record.get(name):
                    self._link(model, rid, name, None, record[name])
            for name, value in later.items():
                f = spec.fields[name]
                new_ids = self._x2many(model, rid, name, f, value, record.get(name) or [])
                if f.type == "many2many":
                    self.tx.update(model, rid, {name: new_ids})
            if spec.after_create is not None:
                spec.after_create(self, self.rec(model, rid))
            ids.append(rid)
        return ids

    def write(self, model: str, ids: Sequence[int], vals: Mapping[str, Any]) -> bool:
        spec = self.spec(model)
        for name in vals:
            if name not in spec.fields:
                raise ValueRpcError(f"Invalid field {name!r} on model {model!r}")
        for rid in ids:
            record = self.rec(model, rid)
            changes: dict[str, Any] = {}
            later: dict[str, Any] = {}
            for name, value in vals.items():
                f = spec.fields[name]
                if f.compute is not None or f.related is not None:
                    continue
                if f.type in ("one2many", "many2many"):
                    later[name] = value
                else:
                    changes[name] = self._convert(model, name, f, value)
                    if f.required and changes[name] in (None, "") and f.type != "boolean":
                        raise _mandatory(spec, name)
            if spec.before_write is not None:
                spec.before_write(self, record, changes)
            old = dict(record)
            self.tx.update(model, int(rid), {**changes, "write_date": now_str()})
            for name, f in spec.fields.items():
                if f.type == "many2one" and name in changes and old.get(name) != changes[name]:
                    self._link(model, int(rid), name, old.get(name), changes[name])
            for name, value in later.items():
                f = spec.fields[name]
                new_ids = self._x2many(
                    model, int(rid), name, f, value, self.get(model, record, name)
                )
                if f.type == "many2many":
                    self.tx.update(model, int(rid), {name: new_ids})
            if changes:
                self._check_company(spec, self.rec(model, rid))
        return True

    def unlink(self, model: str, ids: Sequence[int]) -> bool:
        spec = self.spec(model)
        for rid in list(ids):
            record = self.table(model).get(int(rid))
            if record is None:
                continue
            if spec.before_unlink is not None:
                spec.before_unlink(self, record)
            for name, f in spec.fields.items():
                if f.type == "one2many" and f.compute is None and f.relation:
                    children = list(record.get(name) or [])
                    if children:
                        self.unlink(f.relation, children)
            for name, f in spec.fields.items():
                if f.type == "many2one" and record.get(name):
                    self._link(model, int(rid), name, record[name], None)
            self.tx.delete(model, int(rid))
        return True

    def _check_company(self, spec: ModelSpec, record: Record) -> None:
        company = record.get("company_id")
        if not spec.check_company or not company:
            return
        for fname in spec.check_company:
            f = spec.fields[fname]
            value = record.get(fname)
            if not value or f.relation is None:
                continue
            target = self.rec(f.relation, int(value))
            other = (
                self.get(f.relation, target, "company_id")
                if "company_id" in self.spec(f.relation).fields
                else None
            )
            if other and int(other) != int(company):
                record["__model__"] = spec.name
                target["__model__"] = f.relation
                company_name = self.rec("res.company", int(company)).get("name")
                label = f.string or fname
                raise UserError(
                    "Incompatible companies on records:\n"
                    f"- “{self.display_name(spec.name, record)}” belongs to company "
                    f"“{company_name}” and “{label}” ({fname}: "
                    f"“{self.display_name(f.relation, target)}”) belongs to another company."
                )

    # ------------------------------------------------------------------ dispatch

    def call(self, model: str, method: str, ids: list[int] | None, params: dict[str, Any]) -> Any:
        """Run a public method as ``execute_kw`` / JSON-2 would."""
        spec = self.spec(model)
        if method.startswith("_"):
            raise AccessError(
                f"Private methods (such as '{model}.{method}') cannot be called remotely."
            )
        generic = _GENERIC.get(method)
        if method in spec.methods:
            return spec.methods[method](self, list(ids or []), **params)
        if method in spec.model_methods:
            return spec.model_methods[method](self, **params)
        if generic is not None:
            return generic(self, model, ids, params)
        raise AttributeRpcError(f"The method '{model}.{method}' does not exist")


def _id_order(order: str) -> str | None:
    """``asc``/``desc`` when ``order`` sorts by id alone, else None."""
    bits = order.split()
    if "," in order or not bits or bits[0] != "id" or len(bits) > 2:
        return None
    direction = bits[1].lower() if len(bits) == 2 else "asc"
    return direction if direction in ("asc", "desc") else None


def _id_bounds(domain: list[Any]) -> tuple[int | None, int | None]:
    """The bounds on id that a conjunction's ``id <``/``<=``/``>``/``>=`` leaves set (the whole
    domain is still evaluated on every id in them)."""
    low: int | None = None
    high: int | None = None
    if any(item in ("|", "!") for item in domain):
        return None, None
    for term in domain:
        if not isinstance(term, list | tuple) or len(term) != 3 or str(term[0]) != "id":
            continue
        op, value = term[1], term[2]
        if not isinstance(value, int) or isinstance(value, bool):
            continue
        if op in (">", ">="):
            bound = value + 1 if op == ">" else value
            low = bound if low is None else max(low, bound)
        elif op in ("<", "<="):
            bound = value - 1 if op == "<" else value
            high = bound if high is None else min(high, bound)
    return low, high


def _p(params: dict[str, Any], *names: str, default: Any = None) -> Any:
    for name in names:
        if name in params:
            return params[name]
    return default


def _g_search(env: Env, model: str, ids: list[int] | None, params: dict[str, Any]) -> Any:
    return env.search(
        model,
        _p(params, "domain", "args", default=[]),
        int(_p(params, "offset", default=0)),
        _p(params, "limit"),
        _p(params, "order"),
    )


def _g_search_read(env: Env, model: str, ids: list[int] | None, params: dict[str, Any]) -> Any:
    found = env.search(
        model,
        _p(params, "domain", default=[]),
        int(_p(params, "offset", default=0) or 0),
        _p(params, "limit"),
        _p(params, "order"),
    )
    return env.read(model, found, _p(params, "fields"))


def _g_search_count(env: Env, model: str, ids: list[int] | None, params: dict[str, Any]) -> Any:
    return len(env.search(model, _p(params, "domain", "args", default=[]), 0, _p(params, "limit")))


def _g_read(env: Env, model: str, ids: list[int] | None, params: dict[str, Any]) -> Any:
    return env.read(model, ids or [], _p(params, "fields"))


def _g_create(env: Env, model: str, ids: list[int] | None, params: dict[str, Any]) -> Any:
    vals = _p(params, "vals_list", "vals")
    if isinstance(vals, Mapping):
        return env.create(model, [vals])[0]
    if not isinstance(vals, list):
        raise ValueRpcError("create() needs a dict or a list of dicts")
    return env.create(model, vals)


def _g_write(env: Env, model: str, ids: list[int] | None, params: dict[str, Any]) -> Any:
    return env.write(model, ids or [], _p(params, "vals", default={}))


def _g_unlink(env: Env, model: str, ids: list[int] | None, params: dict[str, Any]) -> Any:
    return env.unlink(model, ids or [])


def _g_fields_get(env: Env, model: str, ids: list[int] | None, params: dict[str, Any]) -> Any:
    spec = env.spec(model)
    wanted = _p(params, "allfields")
    attributes = _p(params, "attributes")
    result = {}
    for name, f in spec.fields.items():
        if wanted and name not in wanted:
            continue
        info: dict[str, Any] = {
            "type": f.type,
            "string": f.string or name.replace("_", " ").title(),
            "required": f.required,
            "readonly": f.readonly or f.compute is not None,
            "store": f.compute is None,
        }
        if f.relation:
            info["relation"] = f.relation
        if f.selection:
            info["selection"] = [[s, s.replace("_", " ").title()] for s in f.selection]
        result[name] = {k: v for k, v in info.items() if not attributes or k in attributes}
    return result


def _g_name_search(env: Env, model: str, ids: list[int] | None, params: dict[str, Any]) -> Any:
    spec = env.spec(model)
    name = _p(params, "name", default="")
    operator = _p(params, "operator", default="ilike")
    domain = list(_p(params, "domain", "args", default=[]) or [])
    if name:
        domain = (
            ["&", [spec.rec_name, operator, name], *domain]
            if domain
            else [[spec.rec_name, operator, name]]
        )
    found = env.search(model, domain, 0, _p(params, "limit", default=100))
    return [[i, env.display_name(model, env.rec(model, i))] for i in found]


def _g_default_get(env: Env, model: str, ids: list[int] | None, params: dict[str, Any]) -> Any:
    names = _p(params, "fields_list", "fields", default=[])
    return env.defaults(model, names)


_GENERIC: dict[str, Callable[[Env, str, list[int] | None, dict[str, Any]], Any]] = {
    "search": _g_search,
    "search_read": _g_search_read,
    "search_count": _g_search_count,
    "read": _g_read,
    "create": _g_create,
    "write": _g_write,
    "unlink": _g_unlink,
    "fields_get": _g_fields_get,
    "name_search": _g_name_search,
    "default_get": _g_default_get,
}

GENERIC_METHODS = frozenset(_GENERIC)
"""The methods every model answers (besides its own)."""

POSITIONAL: dict[str, tuple[str, ...]] = {
    "search": ("domain", "offset", "limit", "order"),
    "search_read": ("domain", "fields", "offset", "limit", "order"),
    "search_count": ("domain", "limit"),
    "read": ("fields",),
    "create": ("vals_list",),
    "write": ("vals",),
    "fields_get": ("allfields", "attributes"),
    "name_search": ("name", "domain", "operator", "limit"),
    "default_get": ("fields_list",),
}
"""Names of the positional arguments of the generic methods (``execute_kw`` passes them so)."""
