"""EPUBCheck's jars (book.check.jars): the jar's enum read back, Jing's restriction checks dropped,
a signed jar copied unsigned, and all kept only when the verdicts agree."""

from __future__ import annotations

import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from book.check import cds, jars
from book.check.cds import small_epub
from book.check.epubcheck import epubcheck_jar

ENUM = "com.adobe.epubcheck.xml.XMLValidators"
# What `javap -p -c` prints of such an enum, cut down to three constants: the third with its flag
# given, and past 255 constants in the pool (`ldc_w`).
DISASSEMBLY = f"""Compiled from "XMLValidators.java"
public final class {ENUM} extends java.lang.Enum<{ENUM}> {{
  public static final {ENUM} A_RNG;
  public static final {ENUM} B_SCH;
  public static final {ENUM} C_NVDL;
  private {ENUM}(java.lang.String);
    Code:
       0: aload_0
       1: aload_1
       2: iload_2
       3: aload_3
       4: iconst_1
       5: invokespecial #169                // Method "<init>":(Ljava/lang/String;ILjava/lang/String;Z)V
       8: return

  static {{}};
    Code:
       0: new           #1                  // class com/adobe/epubcheck/xml/XMLValidators
       3: dup
       4: ldc           #185                // String A_RNG
       6: iconst_0
       7: ldc           #186                // String schema/20/rng/container.rng
       9: invokespecial #188                // Method "<init>":(Ljava/lang/String;ILjava/lang/String;)V
      12: putstatic     #3                  // Field A_RNG:L{ENUM};
      15: new           #1                  // class com/adobe/epubcheck/xml/XMLValidators
      18: dup
      19: ldc_w         #291                // String B_SCH
      22: iconst_1
      23: ldc_w         #292                // String schema/30/package-30.sch
      26: invokespecial #188                // Method "<init>":(Ljava/lang/String;ILjava/lang/String;)V
      29: putstatic     #7                  // Field B_SCH:L{ENUM};
      32: new           #1                  // class com/adobe/epubcheck/xml/XMLValidators
      35: dup
      36: ldc           #194                // String C_NVDL
      38: iconst_2
      39: ldc           #195                // String schema/30/epub-svg-30-informative.nvdl
      41: iconst_0
      42: invokespecial #196                // Method "<init>":(Ljava/lang/String;ILjava/lang/String;Z)V
      45: putstatic     #10                 // Field C_NVDL:L{ENUM};
      48: invokestatic  #150                // Method $values:()[L{ENUM};
      51: putstatic     #154                // Field $VALUES:[L{ENUM};
      54: return
}}
"""


def test_constants_are_read_in_order_with_their_flags() -> None:
    assert jars.read_constants(DISASSEMBLY) == [
        ("A_RNG", "schema/20/rng/container.rng", True),
        ("B_SCH", "schema/30/package-30.sch", True),
        ("C_NVDL", "schema/30/epub-svg-30-informative.nvdl", False),
    ]
    source = jars.enum_source(jars.read_constants(DISASSEMBLY))
    assert 'C_NVDL("schema/30/epub-svg-30-informative.nvdl", false);' in source
    assert "new XMLValidator(path, flag)" in source


@pytest.mark.parametrize(
    "change",
    [
        (f"  public static final {ENUM} C_NVDL;\n", ""),  # a constant the fields do not list
        ("ILjava/lang/String;)V\n      12", "ILjava/lang/String;I)V\n      12"),  # a constructor it does not know
        ("       4: iconst_1\n", "       4: iconst_0\n"),  # the one-argument constructor's flag is not `true`
        ("      22: iconst_1\n", "      22: iconst_5\n"),  # an ordinal out of order
    ],
)
def test_an_enum_that_reads_otherwise_makes_nothing(change: tuple[str, str]) -> None:
    assert change[0] in DISASSEMBLY
    assert jars.read_constants(DISASSEMBLY.replace(*change)) == []


JDK = all(shutil.which(tool) for tool in ("java", "javac", "javap"))


@pytest.mark.skipif(not JDK, reason="needs a JDK (javap, javac)")
def test_a_verdict_that_differs_keeps_no_jar(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    jar = epubcheck_jar()
    calls: list[list[Path]] = []

    def messages(class_path: list[Path], epub: Path, work: Path) -> list[object]:
        calls.append(class_path)
        return [len(class_path)]  # with the lazy jar: another answer

    monkeypatch.setattr(jars, "_messages", messages)
    assert jars.make_jars(jar) is None
    assert len(calls[0]) == 1 and len(calls[1]) > 2  # the jar alone; then with ours first
    target = cds.jars_dir(jar)
    assert target is not None and not target.exists() and list(target.parent.iterdir()) == []
    assert cds.class_path(jar) == [jar]


@pytest.mark.slow
@pytest.mark.skipif(not JDK, reason="needs a JDK (javap, javac)")
def test_the_real_jar_gives_a_lazy_enum_with_the_same_verdicts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    jar = epubcheck_jar()
    made = jars.make_jars(jar)  # checks a valid and a broken EPUB with and without them
    saxon = made / "unsigned-Saxon-HE-11.4.jar" if made else None
    assert made is not None and cds.class_path(jar) == [made / "schemas.jar", saxon, jar]
    with zipfile.ZipFile(made / "schemas.jar") as z:
        names = [n for n in z.namelist() if not n.startswith("bookcheck/RememberingValidator")]
        assert names == ["SchematronReaders.class", "com/adobe/epubcheck/xml/XMLValidators.class",
                                jars.BUILDER, jars.SERVICES]  # fmt: skip
        assert z.read(jars.SERVICES) == b"SchematronReaders\n"
    assert cds.java_command(jar)[-1] == cds.CHECKER
    # Jing's service loader asks our Schematron factory first: it is the one the check loads
    epub = small_epub(tmp_path / "s.epub")
    cmd = ["java", "-Xlog:class+load=info", *cds.java_command(jar)[1:], str(epub)]
    loaded = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert re.search(r"SchematronReaders source: .*schemas\.jar", loaded.stdout), loaded.stdout[-2000:]
    # a new class path, a new class-data archive: the old one listed other classes
    monkeypatch.setattr(cds, "class_path", lambda j: [j])
    without = cds.archive_path(jar)
    monkeypatch.undo()
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cds.archive_path(jar) != without


def test_a_signed_jar_is_copied_without_its_signature(tmp_path: Path) -> None:
    signed, copy = tmp_path / "signed.jar", tmp_path / "copy.jar"
    manifest = "Manifest-Version: 1.0\r\nCreated-By: x\r\n\r\nName: a/B.class\r\nSHA-256-Digest: xyz=\r\n\r\n"
    with zipfile.ZipFile(signed, "w") as z:
        z.writestr("META-INF/MANIFEST.MF", manifest)
        z.writestr("META-INF/KEY.SF", "sig")
        z.writestr("META-INF/KEY.RSA", b"\x30")
        z.writestr("META-INF/services/javax.xml.transform.TransformerFactory", "net.sf.saxon.TransformerFactoryImpl")
        z.writestr("a/B.class", b"\xca\xfe\xba\xbe")
    assert jars.unsigned_copy(signed, copy)
    with zipfile.ZipFile(copy) as z:
        assert z.namelist() == [
            "META-INF/MANIFEST.MF",
            "META-INF/services/javax.xml.transform.TransformerFactory",
            "a/B.class",
        ]
        assert z.read("a/B.class") == b"\xca\xfe\xba\xbe"
        assert z.read("META-INF/MANIFEST.MF") == b"Manifest-Version: 1.0\nCreated-By: x\n\n"
    assert not jars.unsigned_copy(copy, tmp_path / "again.jar")  # not signed: nothing to copy
    assert not (tmp_path / "again.jar").exists()


def _jing_builder() -> bytes:
    jing = next((epubcheck_jar().parent / "lib").glob("jing-*.jar"))
    with zipfile.ZipFile(jing) as z:
        return z.read(jars.BUILDER)


def test_jings_restriction_check_call_becomes_pops_of_the_same_length() -> None:
    original = _jing_builder()
    patched = jars.without_restriction_checks(original)
    assert patched is not None and len(patched) == len(original)
    changed = [i for i, (a, b) in enumerate(zip(original, patched, strict=True)) if a != b]
    assert len(changed) == 3 and changed == list(range(changed[0], changed[0] + 3))
    assert original[changed[0]] == jars.INVOKEVIRTUAL
    assert patched[changed[0] : changed[0] + 3] == bytes([jars.POP2, jars.POP2, jars.NOP])
    assert jars.without_restriction_checks(patched) is None  # no call left: nothing more to drop
    assert jars.jing_builder(epubcheck_jar()) == patched


@pytest.mark.parametrize(
    "damage",
    [
        lambda d: d[:9],  # cut short
        lambda d: d.replace(b"expandPattern", b"expandPatterm"),  # no such method
        lambda d: d.replace(b"checkRestrictions", b"checkRestrictionz"),  # no such call
    ],
)
def test_a_builder_that_reads_otherwise_is_left_alone(damage: object) -> None:
    assert jars.without_restriction_checks(damage(_jing_builder())) is None  # type: ignore[operator]


def test_no_jing_beside_the_jar_means_no_builder(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    assert jars.jing_builder(tmp_path / "epubcheck.jar") is None


@pytest.mark.skipif(not JDK, reason="needs a JDK (javap, javac)")
def test_a_schematron_factory_that_does_not_compile_is_left_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = tmp_path / "SchematronReaders.java"
    broken.write_text("public final class SchematronReaders extends NoSuchFactory {}\n", encoding="utf-8")
    monkeypatch.setattr(jars, "READERS", broken)
    javac = shutil.which("javac")
    assert javac is not None
    assert not jars._compiled_readers(javac, epubcheck_jar(), tmp_path / "classes")
