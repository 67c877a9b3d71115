"""Send: the editor package by SMTP (a local aiosmtpd server on 127.0.0.1) or as a dry-run .eml."""

from __future__ import annotations

import email
import socket
import zipfile
from email import policy
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from book.tools.send import SmtpSettings, send_package
from tests.conftest import run_cli, write_chapter

SUBJECT = "《测试之书》编辑包 test-book-2025-01-01"


class Inbox:
    def __init__(self) -> None:
        self.envelopes: list = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's hook name
        self.envelopes.append(envelope)
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def package(book_dir: Path) -> Path:
    write_chapter(book_dir, "01.md", "---\nchapter_number: 1\ntitle: 一\n---\n\n正文。\n")
    path = book_dir / "build" / "editor" / "test-book-2025-01-01.zip"
    path.parent.mkdir(parents=True)
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("test-book-2025-01-01/report.md", "# 报告\n")
    return path


def attachment_and_subject(raw: bytes) -> tuple[str, str, bytes]:
    msg = email.message_from_bytes(raw, policy=policy.default)
    (part,) = list(msg.iter_attachments())
    return msg["Subject"], part.get_filename(), part.get_content()


def test_sends_through_a_local_smtp_server(book_dir: Path, package: Path) -> None:
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=free_port())
    controller.start()
    try:
        env = {"BOOK_SMTP_HOST": "127.0.0.1", "BOOK_SMTP_PORT": str(controller.port), "BOOK_SMTP_STARTTLS": "0",
               "BOOK_SMTP_FROM": "author@example.org"}  # fmt: skip
        rc = send_package(package, ["editor@example.org"], config_path=book_dir / "book.yaml", env=env)
    finally:
        controller.stop()
    assert rc == 0
    (envelope,) = inbox.envelopes
    assert envelope.rcpt_tos == ["editor@example.org"]
    raw = envelope.original_content
    headers = raw.split(b"\r\n\r\n", 1)[0]
    subject_line = next(line for line in headers.split(b"\r\n") if line.startswith(b"Subject:"))
    assert b"=?utf-8?" in subject_line.lower() and all(b < 128 for b in headers)  # RFC 2047, 7-bit headers
    subject, filename, data = attachment_and_subject(raw)
    assert subject == SUBJECT
    assert filename == package.name and data == package.read_bytes()


def test_dry_run_is_the_default_without_a_host(book_dir: Path, package: Path) -> None:
    assert send_package(package, ["editor@example.org"], config_path=book_dir / "book.yaml", env={}) == 0
    eml = package.with_suffix(".eml")
    subject, filename, data = attachment_and_subject(eml.read_bytes())
    assert subject == SUBJECT and filename == package.name and data == package.read_bytes()


def test_cli_send_dry_run_and_missing_package(book_dir: Path, package: Path) -> None:
    proc = run_cli("send", "--to", "editor@example.org", "--config", str(book_dir / "book.yaml"), "--dry-run",
                   "--package", str(package))  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert package.with_suffix(".eml").is_file()
    empty = book_dir / "nothing"
    proc = run_cli("send", "--to", "e@example.org", "--config", str(book_dir / "book.yaml"), "--out", str(empty))
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "book editor" in proc.stderr


def test_settings_from_env() -> None:
    s = SmtpSettings.from_env({"BOOK_SMTP_HOST": "smtp.example.org", "BOOK_SMTP_USER": "me@example.org"})
    assert (s.port, s.starttls, s.sender) == (587, True, "me@example.org")
    s = SmtpSettings.from_env({"BOOK_SMTP_HOST": "h", "BOOK_SMTP_STARTTLS": "no"})
    assert (s.port, s.starttls, s.sender) == (25, False, "book@localhost")
