"""Sandboxes of different Odoo versions in one process keep their own fields: building a registry
for one version leaves the model definitions that every registry shares untouched (the payment's
memo field is ``ref`` up to 17 and ``memo`` from 18, whatever was built before)."""

from __future__ import annotations

import pytest

from crossdock.sandbox.odoo import OdooSandbox
from tests.sandbox.conftest import quick


@pytest.mark.parametrize("order", [(17, 18, 16, 19), (19, 16, 18, 17)])
def test_each_version_keeps_its_memo_field(order: tuple[int, ...]) -> None:
    boxes = [OdooSandbox(quick(version=v)) for v in order]
    for version, box in zip(order, boxes, strict=True):
        fields = box.registry.specs["account.payment"].fields
        assert ("memo" in fields) is (version >= 18)
        assert ("ref" in fields) is (version <= 17)
        assert ("return_id" in box.registry.specs["stock.picking"].fields) is (version >= 18)
