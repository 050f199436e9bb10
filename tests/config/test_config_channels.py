"""The `channels` section: per-channel pricing, warehouses, fulfilment fallbacks, short-pick
policy and company, with a `default` entry; every mistake reported with its path."""

from __future__ import annotations

import pytest

from crossdock.config import ConfigError, parse_config
from crossdock.config.schema import ChannelPolicy


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return info.value.problems


def test_default_channel_always_exists_and_serves_unknown_channels() -> None:
    cfg = parse_config("channels:\n  web: {short_pick: cancel}\n")
    assert set(cfg.channels) == {"web", "default"}
    assert cfg.channel("web").short_pick == "cancel"
    assert cfg.channel("marketplace") == cfg.channels["default"] == ChannelPolicy()
    assert cfg.channel("marketplace").fulfilment == [
        "preferred",
        "any_warehouse",
        "split",
        "backorder",
    ]
    assert parse_config("channels:\n").channels == {"default": ChannelPolicy()}


def test_a_full_channel() -> None:
    cfg = parse_config(
        "channels:\n"
        "  b2b:\n"
        "    pricing: pricelist\n"
        "    pricelist_id: 4\n"
        "    warehouses: [WH, BRU1]\n"
        "    fulfilment: [preferred, split, reject]\n"
        "    short_pick: cancel\n"
        "    company: My Company\n"
    )
    b2b = cfg.channel("b2b")
    assert (b2b.pricing, b2b.pricelist_id, b2b.warehouses) == ("pricelist", 4, ["WH", "BRU1"])
    assert b2b.fulfilment == ["preferred", "split", "reject"] and b2b.company == "My Company"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "channels:\n  web: {pricelist_id: 3}",
            "channels.web.pricelist_id: only allowed with pricing: pricelist",
        ),
        (
            "channels:\n  web: {pricing: list}",
            "channels.web.pricing: must be one of: channel, pricelist",
        ),
        (
            "channels:\n  web: {pricing: pricelist, pricelist_id: 0}",
            "channels.web.pricelist_id: must be >= 1",
        ),
        (
            "channels:\n  web: {fulfilment: [backorder, split]}",
            "channels.web.fulfilment: backorder must be the last step (it always decides)",
        ),
        (
            "channels:\n  web: {fulfilment: [reject, preferred]}",
            "channels.web.fulfilment: reject must be the last step (it always decides)",
        ),
        ("channels:\n  web: {fulfilment: []}", "channels.web.fulfilment: list at least one step"),
        (
            "channels:\n  web: {fulfilment: [split, split]}",
            "channels.web.fulfilment: lists a step twice",
        ),
        (
            "channels:\n  web: {fulfilment: [prefered]}",
            "channels.web.fulfilment[0]: must be one of: preferred, any_warehouse, split, "
            "backorder, reject",
        ),
        (
            "channels:\n  web: {warehouses: [WH, WH]}",
            "channels.web.warehouses: lists a warehouse twice",
        ),
        (
            "channels:\n  web: {warehouses: ['W H']}",
            "channels.web.warehouses[0]: invalid warehouse code (letters, digits, '_' or '-', "
            "at most 16)",
        ),
        (
            "channels:\n  web: {short_pick: drop}",
            "channels.web.short_pick: must be one of: backorder, cancel",
        ),
        (
            "channels:\n  web: {short_pik: cancel}",
            "channels.web.short_pik: unknown field (did you mean 'short_pick'?)",
        ),
        (
            "channels:\n  web: {company: 0}",
            "channels.web.company: must be a company id (>= 1) or name",
        ),
        (
            "channels:\n  Web: {}",
            "channels.Web: invalid name (lowercase letters, digits, '_' and '-', starting with a "
            "letter)",
        ),
        ("channels: [web]", "channels: must be a mapping"),
    ],
)
def test_each_channel_problem_has_its_path(text: str, expected: str) -> None:
    assert problems(text) == [expected]
