"""Send: an editor package (zip) → an e-mail to the editor, over SMTP or as an `.eml` file (dry run).

SMTP settings come from the environment: BOOK_SMTP_HOST, BOOK_SMTP_PORT (587 with STARTTLS, else 25),
BOOK_SMTP_USER, BOOK_SMTP_PASSWORD, BOOK_SMTP_STARTTLS (1/true/yes; default on when a user is set),
BOOK_SMTP_FROM (default: the user, else book@localhost). With no host, or with `--dry-run`, the
message is written beside the package as `<package>.eml` instead. The subject is Chinese and is
encoded per RFC 2047 by the standard library's SMTP policy. Each `--to` (and the sender) must be one
plausible address, checked before anything is read or sent: a line break could smuggle in headers
and a comma or semicolon a recipient nobody meant.
"""

from __future__ import annotations

import os
import re
import smtplib
import ssl
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from email.headerregistry import HeaderRegistry
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import formatdate, make_msgid
from pathlib import Path

from book.engine.atomic import write_bytes
from book.errors import BookError, Problem
from book.locale import locale_for

TRUE = {"1", "true", "yes", "on"}
_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def check_address(raw: str, where: str = "--to") -> str:
    """`raw` as one mailbox (`ed@example.com` or `Name <ed@example.com>`); raise BookError otherwise."""

    def bad(why: str, hint: str = "write one address, e.g. --to editor@example.com") -> BookError:
        return BookError(Problem(where, None, f"{why}: {raw!r}", hint))

    if _CONTROL.search(raw):
        raise bad("line break or control character in the address")
    if re.search(r"[,;]", _QUOTED.sub("", raw)):
        raise bad("more than one address", "one address per --to: repeat --to for each recipient")
    try:
        header = HeaderRegistry()("To", raw.strip())
        (mailbox,) = header.addresses
    except Exception:  # the stdlib parser can fail on odd input with more than HeaderParseError
        raise bad("not an e-mail address") from None
    domain = mailbox.domain
    plausible = mailbox.username and domain and ("." in domain.strip(".") or domain == "localhost"
                                                 or domain.startswith("["))  # fmt: skip
    if header.defects or any(g.display_name for g in header.groups) or not plausible:
        raise bad("not an e-mail address")
    return str(mailbox)


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int
    user: str
    password: str
    starttls: bool
    sender: str

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SmtpSettings:
        env = os.environ if env is None else env
        user = env.get("BOOK_SMTP_USER", "")
        tls_raw = env.get("BOOK_SMTP_STARTTLS")
        starttls = tls_raw.strip().lower() in TRUE if tls_raw is not None else bool(user)
        port_raw = env.get("BOOK_SMTP_PORT") or ("587" if starttls else "25")
        if not port_raw.isdigit():
            raise BookError(Problem("BOOK_SMTP_PORT", None, f"not a port number: {port_raw!r}", "set e.g. 587"))
        return cls(
            host=env.get("BOOK_SMTP_HOST", ""),
            port=int(port_raw),
            user=user,
            password=env.get("BOOK_SMTP_PASSWORD", ""),
            starttls=starttls,
            sender=env.get("BOOK_SMTP_FROM") or (user if "@" in user else "") or "book@localhost",
        )


def build_message(package: Path, to: list[str], *, title: str, sender: str, language: str = "zh-Hans") -> EmailMessage:
    """The mail: a short Chinese note in the book's script, the package attached as application/zip."""
    t = locale_for(language)
    msg = EmailMessage(policy=SMTP)
    msg["Subject"] = t["send_subject"].format(title=title, package=package.stem)
    msg["From"] = sender
    msg["To"] = ", ".join(to)
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
    msg.set_content(t["send_body"].format(title=title, package=package.name))
    msg.add_attachment(package.read_bytes(), maintype="application", subtype="zip", filename=package.name)
    return msg


def send_package(
    package: Path,
    to: list[str],
    *,
    config_path: str | Path = "book.yaml",
    dry_run: bool | None = None,
    env: Mapping[str, str] | None = None,
) -> int:
    """Mail the package, or write `<package>.eml` when dry-running (the default without a host)."""
    from book.source.config import load_config

    settings = SmtpSettings.from_env(env)
    problems, recipients = [], []
    for raw in to:
        try:
            recipients.append(check_address(raw))
        except BookError as exc:
            problems += exc.problems
    try:
        check_address(settings.sender, "BOOK_SMTP_FROM")
    except BookError as exc:
        problems += exc.problems
    if problems:
        raise BookError(problems)
    to = recipients
    config = load_config(config_path)
    msg = build_message(package, to, title=config.title, sender=settings.sender, language=config.language)
    if dry_run is None:
        dry_run = not settings.host
    if dry_run:
        eml = package.with_suffix(".eml")
        write_bytes(eml, msg.as_bytes())
        why = "" if settings.host else " (BOOK_SMTP_HOST is not set)"
        print(f"dry run{why}: wrote {eml}", file=sys.stderr)
        return 0
    try:
        with smtplib.SMTP(settings.host, settings.port, timeout=60) as smtp:
            if settings.starttls:
                smtp.starttls(context=ssl.create_default_context())
            if settings.user:
                smtp.login(settings.user, settings.password)
            smtp.send_message(msg)
    except (OSError, smtplib.SMTPException) as exc:
        raise BookError(
            Problem(f"smtp://{settings.host}:{settings.port}", None, f"sending failed: {exc}",
                    "check the BOOK_SMTP_* settings, or use --dry-run to write the .eml")
        ) from None  # fmt: skip
    print(f"sent {package.name} to {', '.join(to)} via {settings.host}:{settings.port}", file=sys.stderr)
    return 0
