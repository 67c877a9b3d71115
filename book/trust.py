"""Read policy: a path, URL or template the build is about to read → the file it may read, or a refusal.

A book folder is untrusted input. Whatever it names — sources, images, the cover, templates,
stylesheets, fonts, ICC profiles, anything a stylesheet's `url()` points at — is read only when its
resolved path (symlinks followed first) lies inside the book's folder, the build's own cache, the
toolchain's `templates/`, `styles/` and `fonts/`, or the system font and colour-profile folders
WeasyPrint needs. Remote `url()`s in stylesheets go through `book.fetch` (the same bounds and
address rules as remote images) while the stylesheets are read, so a refusal names the stylesheet;
WeasyPrint's own fetcher (`url_fetcher`) then serves only files inside the roots, fetches made that
way, and `data:` URLs, and never opens a connection. Book templates render in Jinja's sandbox.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urljoin, urlsplit

import jinja2
import jinja2.sandbox

from book.errors import BookError, Problem, display_path
from book.model import PROJECT_ROOT

if TYPE_CHECKING:
    from book.errors import Diagnostics
    from book.model import BookConfig

# The toolchain's own data: templates, styles, fonts and the press profiles it ships (book/icc).
TOOLCHAIN_DIRS = (*(PROJECT_ROOT / d for d in ("templates", "styles", "fonts")), PROJECT_ROOT / "book" / "icc")
SYSTEM_DIRS = (
    Path("/usr/share/fonts"), Path("/usr/local/share/fonts"), Path("~/.fonts").expanduser(),
    Path("~/.local/share/fonts").expanduser(), Path("/usr/share/color/icc"), Path("/usr/share/ghostscript"),
)  # fmt: skip
# The marker of a refusal by the fetcher: stylesheets are vetted (and warned about, by name) before
# WeasyPrint sees them, so WeasyPrint's own "failed to load" line for the same URL is dropped.
REFUSED = "refused by the book's read policy"


class Refused(ValueError):
    """Why a path or URL may not be read."""


def _resolved(path: Path) -> Path | None:
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):  # a symlink loop
        return None


def inside(path: Path, roots: tuple[Path, ...] | list[Path]) -> bool:
    """Is `path`, with every symlink resolved, inside one of `roots` (resolved too)?"""
    real = _resolved(path)
    if real is None:
        return False
    for root in roots:
        r = _resolved(root)
        if r is not None and (real == r or r in real.parents):
            return True
    return False


def roots_for(book_root: Path, cache_dir: Path | None = None) -> tuple[str, ...]:
    """The folders a build may read: the book's, its cache, the toolchain's and the system's."""
    roots = [Path(book_root), *TOOLCHAIN_DIRS, *SYSTEM_DIRS]
    if cache_dir is not None:
        roots.insert(1, Path(cache_dir))
    return tuple(str(r) for r in roots)


@dataclass(frozen=True)
class ReadPolicy:
    """What WeasyPrint may read for one build (picklable: the PDF workers build their fetcher from it)."""

    roots: tuple[str, ...]
    fetch_dir: str | None = None  # book.fetch's cache: remote url()s already fetched, served from there

    @classmethod
    def for_base(cls, base_url: str) -> ReadPolicy:
        """The default when a caller gives none: the book's folder (the base URL) and the toolchain's."""
        return cls(roots_for(Path(base_url)))


def check_file(path: Path, roots: tuple[Path, ...] | list[Path], what: str = "file") -> Path:
    """The resolved `path` when it lies inside `roots`; raise Refused saying why not."""
    if not inside(path, roots):
        real = _resolved(path)
        where = f" (it resolves to {real})" if real is not None and real != Path(path).absolute() else ""
        raise Refused(f"{what} leaves the book's folder{where}")
    return Path(path).resolve()


# --- templates -----------------------------------------------------------------------------------


class ConfinedLoader(jinja2.FileSystemLoader):
    """A FileSystemLoader that refuses a template whose resolved file is outside its folder."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Any]:
        for folder in self.searchpath:
            candidate = Path(folder) / template
            if candidate.is_file() or candidate.is_symlink():
                if not inside(candidate, [Path(folder)]):
                    real = _resolved(candidate)
                    raise BookError(Problem(
                        display_path(candidate), None,
                        f"template leaves its folder{f' (a link to {real})' if real else ''}",
                        "copy the template into the templates folder instead of linking it",
                    ))  # fmt: skip
                break
        return super().get_source(environment, template)


def _template_line(exc: BaseException) -> tuple[str, int | None]:
    """The template file and line an exception came from (Jinja rewrites tracebacks to show them)."""
    where: tuple[str, int | None] = ("template", None)
    tb = exc.__traceback__
    while tb is not None:
        name = tb.tb_frame.f_code.co_filename
        if not name.endswith(".py") and not name.startswith("<"):
            where = (display_path(name), tb.tb_lineno)
        tb = tb.tb_next
    return where


class SandboxedTemplate(jinja2.Template):
    """A template whose refused operations are a one-line error at its own line, not a traceback."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        try:
            return super().render(*args, **kwargs)
        except jinja2.sandbox.SecurityError as exc:
            path, line = _template_line(exc)
            raise BookError(Problem(path, line, f"template refused: {exc}",
                                    "templates may format what they are given, not reach into Python")) from None  # fmt: skip


class SandboxedEnvironment(jinja2.sandbox.ImmutableSandboxedEnvironment):
    template_class = SandboxedTemplate


def template_environment(dirs: tuple[Path, ...], **options: Any) -> jinja2.Environment:
    """A sandboxed Jinja environment over `dirs`: a template can format what it is given, not run code."""
    return SandboxedEnvironment(loader=ConfinedLoader([str(d) for d in dirs]), **options)


# --- stylesheets ---------------------------------------------------------------------------------


def css_urls(text: str) -> list[tuple[str, int]]:
    """Every `url(…)` and `@import "…"` of a stylesheet, with its 1-based line (tokenised by tinycss2,
    WeasyPrint's own CSS parser, so escapes and comments are read as WeasyPrint reads them)."""
    import tinycss2

    found: list[tuple[str, int]] = []

    def walk(tokens: list[Any]) -> None:
        after_import = False
        for tok in tokens:
            kind = getattr(tok, "type", "")
            if kind == "url":
                found.append((tok.value, tok.source_line))
            elif kind == "function" and tok.lower_name in ("url", "src"):
                found.extend((t.value, t.source_line) for t in tok.arguments if t.type == "string")
            elif kind == "string" and after_import:
                found.append((tok.value, tok.source_line))
            if kind in ("() block", "[] block", "{} block", "function"):
                walk(tok.content if kind != "function" else tok.arguments)
            if kind not in ("whitespace", "comment"):
                after_import = kind == "at-keyword" and tok.lower_value == "import"

    walk(tinycss2.parse_component_value_list(text, skip_comments=True))
    return [(v.strip(), line) for v, line in found if v.strip()]


def vet_stylesheet(sheet: Path | str, text: str, config: BookConfig, diag: Diagnostics, fetch_dir: Path | None) -> None:
    """Warn, naming the stylesheet and line, about each `url()` the PDF will not load; fetch remote ones.

    Remote images are fetched here, once, with the policy of remote images in the text; the fetcher
    WeasyPrint uses then finds them in the fetch cache.
    """
    from book.parts.fetch import FetchError, FetchPolicy, fetch

    base = Path(config.root).resolve().as_uri() + "/"
    roots = [Path(r) for r in roots_for(config.root, fetch_dir)]
    policy = FetchPolicy(allow_private=config.allow_private_fetch)
    for value, line in css_urls(text):
        url = urljoin(base, value)
        scheme = urlsplit(url).scheme.lower()
        why = ""
        if scheme == "data":
            continue
        if scheme == "file":
            path = Path(unquote(urlsplit(url).path))
            if not inside(path, roots):
                why = "the file is outside the book's folder"
        elif scheme in ("http", "https"):
            if fetch_dir is None:
                why = "remote resources are not fetched here"
            else:
                try:
                    fetch(url, fetch_dir, policy)
                except FetchError as exc:
                    why = str(exc)
        else:
            why = f"scheme '{scheme}:' is not allowed"
        if why:
            shown = value[:80] + ("…" if len(value) > 80 else "")
            diag.warn(sheet, line, f"url({shown}) not loaded ({why})",
                      "keep what a stylesheet uses inside the book's folder, or as an http(s) image")  # fmt: skip


def url_fetcher(policy: ReadPolicy | None, base_url: str) -> Any:
    """A WeasyPrint URL fetcher that reads only what `policy` allows (WeasyPrint's default reads anything)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    policy = policy or ReadPolicy.for_base(base_url)
    roots = [Path(r) for r in policy.roots]

    class Fetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            scheme = urlsplit(url).scheme.lower()
            if scheme == "data":
                return super().fetch(url, headers)
            if scheme == "file":
                path = Path(unquote(urlsplit(url).path))
                if not inside(path, roots):
                    raise Refused(f"{REFUSED}: {url[:80]} is outside the book's folder")
                return super().fetch(url, headers)
            if scheme in ("http", "https") and policy.fetch_dir:
                from book.parts.fetch import cached

                got = cached(url, Path(policy.fetch_dir))
                if got is not None:
                    return URLFetcherResponse(url, got.path.read_bytes(), {"Content-Type": got.media_type})
            raise Refused(f"{REFUSED}: {url[:80]}")

    return Fetcher(allowed_protocols=("file", "data", "http", "https"), allow_redirects=False)
