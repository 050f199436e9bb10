"""Secrets: only references are accepted, they resolve from env or file, values never leak."""

from __future__ import annotations

import os
import re
import traceback
from pathlib import Path

import pytest
from pydantic import ValidationError

from crossdock.config import (
    ConfigError,
    SecretError,
    SecretRef,
    System,
    check_config,
    dump_config,
    iter_secrets,
    load_config,
    parse_config,
)

INLINE = "secrets must be references (${ENV_VAR} or file:/path), not inline values"
SECRET = "s3cr3t-VALUE-do-not-print"


def system_with(credentials: str) -> str:
    return f"systems:\n  odoo:\n    kind: odoo\n    url: https://erp.example.com\n{credentials}"


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_config(text)
    return info.value.problems


@pytest.mark.parametrize("inline", ["hunter2", "12345", "''", "[a, b]", "'$ODOO_KEY'"])
def test_inline_secret_rejected(inline: str) -> None:
    found = problems(system_with(f"    credentials:\n      api_key: {inline}\n"))
    assert found == [f"systems.odoo.credentials.api_key: {INLINE}"]


def test_inline_webhook_secret_rejected() -> None:
    found = problems(system_with("    webhook_secret: whsec_abc\n"))
    assert found == [f"systems.odoo.webhook_secret: {INLINE}"]


@pytest.mark.parametrize(
    ("ref", "message"),
    [
        (
            "${lower-case}",
            "invalid environment reference (use ${NAME} with letters, digits and '_')",
        ),
        ("${}", "invalid environment reference (use ${NAME} with letters, digits and '_')"),
        ("file:relative/path", "file references need an absolute path (file:/path)"),
    ],
)
def test_malformed_references(ref: str, message: str) -> None:
    found = problems(system_with(f"    credentials:\n      api_key: '{ref}'\n"))
    assert found == [f"systems.odoo.credentials.api_key: {message}"]


def test_env_reference_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    ref = SecretRef("${ODOO_API_KEY}")
    assert (ref.kind, ref.target, ref.ref) == ("env", "ODOO_API_KEY", "${ODOO_API_KEY}")
    monkeypatch.delenv("ODOO_API_KEY", raising=False)
    with pytest.raises(SecretError, match=r"^environment variable ODOO_API_KEY is not set$"):
        ref.resolve()
    monkeypatch.setenv("ODOO_API_KEY", "")
    with pytest.raises(SecretError, match="ODOO_API_KEY is empty"):
        ref.resolve()
    monkeypatch.setenv("ODOO_API_KEY", SECRET)
    assert ref.resolve() == SECRET


def test_file_reference_resolves(tmp_path: Path) -> None:
    path = tmp_path / "api_key"
    path.write_text(SECRET + "\n", encoding="utf-8")
    ref = SecretRef(f"file:{path}")
    assert (ref.kind, ref.target) == ("file", str(path))
    assert ref.resolve() == SECRET  # one trailing newline removed
    path.write_text("line1\nline2\n\n", encoding="utf-8")
    assert ref.resolve() == "line1\nline2\n"  # only one
    path.write_text("", encoding="utf-8")
    with pytest.raises(SecretError, match=re.escape(f"secret file {path} is empty")):
        ref.resolve()
    path.unlink()
    with pytest.raises(SecretError) as info:
        ref.resolve()
    assert str(info.value) == f"secret file {path} does not exist"


def test_unreadable_file_error_does_not_quote_content(tmp_path: Path) -> None:
    path = tmp_path / "binary"
    path.write_bytes(b"\xff\xfe" + SECRET.encode())
    with pytest.raises(SecretError) as info:
        SecretRef(f"file:{path}").resolve()
    assert SECRET not in str(info.value)
    assert "".join(traceback.format_exception(info.value)).count(SECRET) == 0


def test_repr_and_str_show_the_reference_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODOO_API_KEY", SECRET)
    ref = SecretRef("${ODOO_API_KEY}")
    assert ref.resolve() == SECRET
    assert repr(ref) == "SecretRef('${ODOO_API_KEY}')"
    assert str(ref) == "${ODOO_API_KEY}"
    cfg = parse_config(system_with("    credentials:\n      api_key: ${ODOO_API_KEY}\n"))
    assert SECRET not in repr(cfg)
    assert SECRET not in str(cfg.model_dump())
    assert SECRET not in cfg.model_dump_json()


def test_check_config_reports_every_unresolvable_reference(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ODOO_API_KEY", raising=False)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    text = "database: {url: 'postgresql://app:${PGPASSWORD}@db/hub'}\n" + system_with(
        "    credentials:\n"
        "      api_key: ${ODOO_API_KEY}\n"
        f"      cert: file:{tmp_path}/missing.pem\n"
        "    webhook_secret: ${HOOK_SECRET}\n"
    )
    cfg = parse_config(text)
    assert [path for path, _ in iter_secrets(cfg)] == [
        "systems.odoo.credentials.api_key",
        "systems.odoo.credentials.cert",
        "systems.odoo.webhook_secret",
    ]
    assert check_config(cfg) == [
        "database.url: environment variable PGPASSWORD is not set",
        "systems.odoo.credentials.api_key: environment variable ODOO_API_KEY is not set",
        f"systems.odoo.credentials.cert: secret file {tmp_path}/missing.pem does not exist",
    ]
    # load_config(check_secrets=True) raises the same problems, with file lines
    path = tmp_path / "hub.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_config(path, check_secrets=True)
    assert info.value.problems == check_config(cfg)
    assert [p.line for p in info.value.details] == [1, 7, 8]

    monkeypatch.setenv("ODOO_API_KEY", SECRET)
    monkeypatch.setenv("PGPASSWORD", SECRET)
    (tmp_path / "missing.pem").write_text(SECRET, encoding="utf-8")
    assert check_config(cfg) == []
    assert load_config(path, check_secrets=True) == cfg


def test_inline_secret_never_appears_in_errors(tmp_path: Path) -> None:
    path = tmp_path / "hub.yaml"
    path.write_text(
        system_with(
            f"    credentials:\n      api_key: {SECRET}\n    options:\n      password: {SECRET}\n"
        )
        + f"database: {{url: 'postgresql://app:{SECRET}@db/hub'}}\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_config(path)
    err = info.value
    assert len(err.problems) == 3
    rendered = "".join(traceback.format_exception(err))  # includes chained exceptions, if any
    assert SECRET not in rendered
    assert SECRET not in repr(err) and SECRET not in str(err.details)


def test_models_built_in_code_do_not_leak_inline_values() -> None:
    with pytest.raises(ValidationError) as info:
        System.model_validate(
            {"kind": "odoo", "url": "https://x", "credentials": {"api_key": SECRET}}
        )
    assert SECRET not in str(info.value)
    assert INLINE in str(info.value)


def test_show_never_resolves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ODOO_API_KEY", SECRET)
    monkeypatch.setenv("PGPASSWORD", SECRET)
    cfg = parse_config(
        "database: {url: 'postgresql://app:${PGPASSWORD}@db/hub'}\n"
        + system_with("    credentials:\n      api_key: ${ODOO_API_KEY}\n")
    )
    dumped = dump_config(cfg)
    assert SECRET not in dumped
    assert "api_key: ${ODOO_API_KEY}" in dumped
    assert "${PGPASSWORD}" in dumped
    assert os.environ["ODOO_API_KEY"] == SECRET  # the test really had a value to leak
