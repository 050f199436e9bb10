"""`crossdock dlq …` and `crossdock events …`: dead letters and the event log, from a terminal."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from datetime import UTC, datetime

import typer
from rich.markup import escape
from rich.table import Table
from sqlalchemy import Connection, select

from crossdock.commands.common import ConfigOption, console, with_engine
from crossdock.config import Config
from crossdock.engine import DeadLetter, Engine, Event, find_event, format_time, parse_time
from crossdock.engine import dead_letters_table as dead_letters
from crossdock.flows.orders import (
    get_order,
    get_order_by_ref,
    list_orders,
    order_subject,
    refs_of_subjects,
    steps_of,
)
from crossdock.ops.audit import append_audit, local_actor

dlq = typer.Typer(no_args_is_help=True, help="Dead letters: list, show, replay.")
events = typer.Typer(no_args_is_help=True, help="The event log.")




def _when(epoch: float) -> str:
    return format_time(datetime.fromtimestamp(epoch, UTC))


Refs = tuple[str, str]  # an order's channel and external_ref


def _shop_ref(event: Event) -> str:
    """` (CHANNEL/REF)` of an event about an order (its data names it so), else empty."""
    data = event.data if isinstance(event.data, dict) else {}
    if "channel" in data and "external_ref" in data:
        return f" ({data['channel']}/{data['external_ref']})"
    return ""


@dlq.command("list")
def dlq_list(
    config: ConfigOption = None,
    group: str | None = typer.Option(None, help="Only this consumer group."),
    include_replayed: bool = typer.Option(False, "--all", help="Include replayed ones."),
    limit: int = typer.Option(100, help="At most this many, newest first."),
) -> None:
    """Dead letters, newest first, with their last error."""

    async def read(_: Config, engine: Engine) -> tuple[list[DeadLetter], dict[str, Refs]]:
        dead = await engine.dead_letters(
            group=group, include_replayed=include_replayed, limit=limit
        )
        subjects = [d.subject for d in dead]
        return dead, await engine.db.read(lambda c: refs_of_subjects(c, subjects))

    dead, refs = with_engine(config, read)  # refs: the shop's number of each order subject
    table = Table("id", "group", "type", "subject", "attempts", "dead at", "last error")
    for column in table.columns[:-1]:
        column.no_wrap = True
    for d in dead:
        table.add_row(
            str(d.id),
            d.group,
            d.event_type,
            d.subject + (" ({}/{})".format(*refs[d.subject]) if d.subject in refs else ""),
            str(d.attempts),
            _when(d.dead_at),
            d.errors[-1]["error"] if d.errors else "",
        )
    console.print(table if dead else "no dead letters")


@dlq.command("show")
def dlq_show(dead_id: int, config: ConfigOption = None) -> None:
    """One dead letter: the event and every attempt's error, as JSON."""
    dead: DeadLetter | None = with_engine(config, lambda _, e: e.dead_letter(dead_id))
    if dead is None:
        typer.echo(f"no dead letter {dead_id}", err=True)
        raise typer.Exit(1)
    typer.echo(
        json.dumps(
            {
                "id": dead.id,
                "group": dead.group,
                "attempts": dead.attempts,
                "dead_at": _when(dead.dead_at),
                "replayed_at": _when(dead.replayed_at) if dead.replayed_at else None,
                "errors": dead.errors,
                "event": dead.event.to_cloudevent() if dead.event else None,
            },
            indent=2,
        )
    )


def _audit_replay(
    dead_id: int | None, *, group: str | None = None, since: str | None = None
) -> Callable[[Connection, int], None]:
    """The audit entry of a replay, written in the replay's transaction (if anything replayed)."""

    def record(conn: Connection, replayed: int) -> None:
        if replayed:
            subject = f"group:{group}"
            if dead_id is not None:  # the business key of the replayed event
                found = conn.execute(
                    select(dead_letters.c.subject).where(dead_letters.c.id == dead_id)
                ).scalar()
                subject = str(found or f"dead_letter:{dead_id}")
            details = {"dead_letter": dead_id, "group": group, "since": since, "count": replayed}
            append_audit(
                conn,
                actor=local_actor(),
                action="dead_letter.replayed",
                subject=subject,
                details=details,
            )

    return record


@dlq.command("replay")
def dlq_replay(
    dead_id: int | None = typer.Argument(None, help="The dead letter to replay."),
    config: ConfigOption = None,
    group: str | None = typer.Option(None, help="Replay every dead letter of this group."),
    since: str | None = typer.Option(None, help="With --group: only those dead since (ISO 8601)."),
) -> None:
    """Put dead letters back: the event is retried at once, ahead of later events of its subject."""
    if (dead_id is None) == (group is None):
        raise typer.BadParameter("give a dead letter id, or --group")
    if dead_id is not None:
        if not with_engine(config, lambda _, e: e.replay(dead_id, also=_audit_replay(dead_id))):
            typer.echo(f"dead letter {dead_id} does not exist or was already replayed", err=True)
            raise typer.Exit(1)
        typer.echo(f"replayed {dead_id}")
        return
    assert group is not None
    cutoff = parse_time(since).timestamp() if since else None
    also = _audit_replay(None, group=group, since=since)
    count = with_engine(config, lambda _, e: e.replay_group(group, cutoff, also=also))
    typer.echo(f"replayed {count} dead letters of {group}")


def _print_event(event: Event, as_json: bool) -> None:
    if as_json:
        typer.echo(json.dumps(event.to_cloudevent(), separators=(",", ":")))
        return
    console.print(
        f"[dim]{format_time(event.time)}[/dim] [bold]{event.type}[/bold] "
        f"{escape(event.subject + _shop_ref(event))} [dim]from {event.source} · {event.id}[/dim]",
        highlight=False,
    )


def _orders_named(conn: Connection, name: str) -> dict[str, int]:
    """The subjects of the orders `name` designates — a hub order id, `CHANNEL/REF`, or the
    channel's number `REF` alone (every channel's order with it) — each with the log position
    its history starts after (just before its `order.accepted`)."""
    record = get_order(conn, name)
    channel, slash, ref = name.partition("/")
    if record is None and slash:
        record = get_order_by_ref(conn, channel, ref)
    records = [record] if record is not None else list_orders(conn, external_ref=name, limit=100)
    found: dict[str, int] = {}
    for order in records:
        first = next((s.event_id for s in steps_of(conn, order.id) if s.event_id), None)
        accepted = find_event(conn, first) if first else None
        found[order_subject(order.id)] = accepted.position - 1 if accepted else 0
    return found


@events.command("tail")
def events_tail(
    config: ConfigOption = None,
    lines: int = typer.Option(20, "-n", help="Show this many recent events first."),
    follow: bool = typer.Option(False, "--follow", "-f", help="Keep printing new events."),
    types: list[str] = typer.Option([], "--type", help="Only these types (order.* for a prefix)."),
    subject: str | None = typer.Option(
        None,
        help="Only this subject. `order:REF` or `order:CHANNEL/REF` finds an order by the "
        "channel's own number.",
    ),
    order: str | None = typer.Option(
        None,
        "--order",
        metavar="[CHANNEL/]REF",
        help="Only this order's events, from its acceptance on (the channel's number, or the "
        "hub's order id).",
    ),
    as_json: bool = typer.Option(False, "--json", help="One CloudEvents JSON object per line."),
) -> None:
    """Print the newest events, then (with -f) follow the log."""
    prefix = order_subject("")
    name = order or (subject[len(prefix) :] if subject and subject.startswith(prefix) else None)
    subjects: dict[str, int] = {}  # an order's subjects, each with where its history starts

    def wanted(event: Event) -> bool:
        if subjects and event.subject not in subjects:
            return False
        if not subjects and subject is not None and event.subject != subject:
            return False
        return not types or any(
            event.type.startswith(t[:-1]) if t.endswith("*") else event.type == t for t in types
        )

    async def history(engine: Engine, until: int) -> list[Event]:
        """The last `lines` events up to position `until` of the orders named, however old:
        read from each one's acceptance on (the log has no index by subject)."""
        found: list[Event] = []
        for each, start in subjects.items():
            found += await engine.events_after(start, 10_000, types=types, subject=each)
        found = sorted((e for e in found if e.position <= until), key=lambda e: e.position)
        return found[-lines:] if lines else []

    async def work(_: Config, engine: Engine) -> None:
        if name is not None:
            subjects.update(await engine.db.read(lambda c: _orders_named(c, name)))
            if not subjects and order is not None:
                channel, slash, ref = order.partition("/")
                where = f"{ref} in channel {channel}" if slash else order
                typer.echo(f"no order {where}", err=True)
                raise typer.Exit(1)
        if subjects:  # following goes on from the log's end when the history was read
            last = await engine.last_events(1)
            position = last[-1].position if last else 0
            recent = await history(engine, position)
        else:
            recent = await engine.last_events(lines) if lines else []
            position = recent[-1].position if recent else 0
        for event in recent:
            if wanted(event):
                _print_event(event, as_json)
        only = subject  # the subject the log is read for (several orders: `wanted` filters)
        if subjects:
            only = next(iter(subjects)) if len(subjects) == 1 else None
        while follow:
            fresh = await engine.events_after(position, 500, types=types, subject=only)
            for event in fresh:
                if wanted(event):
                    _print_event(event, as_json)
            if fresh:
                position = fresh[-1].position
            else:
                await asyncio.sleep(0.5)

    with contextlib.suppress(KeyboardInterrupt):
        with_engine(config, work)
