"""Cover spread: geometry, barcode, PDF/X-4 output intent and colour of `<slug>-cover.pdf`; retail checks."""

from __future__ import annotations

import shutil
import subprocess
import zipfile
from pathlib import Path

import pikepdf
import pytest
from barcode import EAN13
from PIL import Image

from book.check.pdf import device_rgb_uses
from book.check.retail import barcode_modules, check_cover, check_epub_isbn, decode_ean13, filled_rects
from book.cover import isbn as isbn_mod
from book.cover import press
from book.cover.spread import spine_runs, spread, write_cover
from book.errors import BookError, Diagnostics
from book.source.config import load_config
from tests.conftest import ROOT, have

ISBN = "978-7-115-54608-1"
EXTRA = f"""isbn: {ISBN}
price: 68
blurb: |
  从图灵的思想实验到今天的大模型，人工智能走过了七十余年的起伏。

  书中既有技术的来龙去脉，也有鲜为人知的轶事。
"""
MM = 72 / 25.4


def sample(tmp_path: Path, extra: str = EXTRA, print_options: str = "") -> Path:
    """The repository's sample book in tmp_path, with cover metadata (and `print:` options)."""
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    text = (ROOT / "book.yaml").read_text(encoding="utf-8") + extra
    if print_options:
        text += "print:\n" + "".join(f"  {line}\n" for line in print_options.strip().splitlines())
    (tmp_path / "book.yaml").write_text(text, encoding="utf-8")
    return tmp_path / "book.yaml"


def mm(points: float) -> float:
    return float(points) / MM


@pytest.mark.parametrize("pages", [44, 400])
def test_spread_width_is_front_spine_back_and_bleeds(tmp_path: Path, pages: int) -> None:
    config = load_config(sample(tmp_path))
    diag = Diagnostics(echo=False)
    path, s = write_cover(config, tmp_path / "cover.pdf", pages, diag)
    spine = pages / 2 * 0.088  # 70g 胶版纸, one leaf per two pages
    assert s.spine == pytest.approx(spine, abs=0.01)
    with pikepdf.open(path) as pdf:
        assert len(pdf.pages) == 1
        page = pdf.pages[0].obj
        trim = [float(v) for v in page.TrimBox]
        bleed = [float(v) for v in page.BleedBox]
    assert mm(trim[2] - trim[0]) == pytest.approx(148 + spine + 148, abs=0.1)
    assert mm(trim[3] - trim[1]) == pytest.approx(210, abs=0.1)
    assert mm(bleed[2] - bleed[0]) == pytest.approx(3 + 148 + spine + 148 + 3, abs=0.1)
    assert mm(bleed[3] - bleed[1]) == pytest.approx(216, abs=0.1)
    narrow = any("too narrow for text" in w.message for w in diag.warnings)
    assert narrow == (spine < 5), "spine text is left off (with a warning) only on a narrow spine"
    if have("pdftotext"):
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        spine_chars = text.count("示") + text.count("例")
        assert spine_chars == (2 if spine < 5 else 4), "the publisher appears on the spine too when it is wide"


def test_barcode_bars_decode_to_the_isbn(tmp_path: Path) -> None:
    config = load_config(sample(tmp_path))
    path, _ = write_cover(config, tmp_path / "cover.pdf", 320, Diagnostics(echo=False))
    modules = barcode_modules(filled_rects(path))
    assert modules == EAN13("978711554608").build()[0], "the drawn bars are python-barcode's encoding"
    assert decode_ean13(modules) == "9787115546081"
    if have("pdftotext"):
        text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
        for group in ("9", "787115", "546081", f"ISBN {ISBN}", "定价：68.00元"):
            assert group in text


def test_pdfx4_output_intent_and_no_rgb(tmp_path: Path) -> None:
    Image.new("RGB", (600, 900), (40, 90, 160)).save(tmp_path / "art.png")  # an RGB picture, and too small
    yaml = sample(tmp_path, print_options="cover_background: art.png\ncover_marks: true")
    diag = Diagnostics(echo=False)
    path, s = write_cover(load_config(yaml), tmp_path / "cover.pdf", 200, diag)
    assert any("dpi" in w.message and "cover_background" in w.message for w in diag.warnings)
    with pikepdf.open(path) as pdf:
        assert b"PDF/X-4" in pdf.Root.Metadata.read_bytes()
        (intent,) = pdf.Root.OutputIntents
        assert str(intent.S) == "/GTS_PDFX"
        assert str(intent.OutputConditionIdentifier) == "JC200103"
        assert str(intent.RegistryName) == "http://www.color.org"
        assert int(intent.DestOutputProfile.N) == 4
        page = pdf.pages[0].obj
        media, bleed = [float(v) for v in page.MediaBox], [float(v) for v in page.BleedBox]
        assert media[0] < bleed[0] and media[2] > bleed[2], "crop marks sit outside the bleed"
        images = [o for o in pdf.objects if isinstance(o, pikepdf.Stream) and o.get("/Subtype") == "/Image"]
        assert images and all(str(o.ColorSpace) == "/DeviceCMYK" for o in images)
    assert device_rgb_uses(path) == []


def test_output_intent_option_chooses_the_press(tmp_path: Path) -> None:
    yaml = sample(tmp_path, print_options="output_intent: FOGRA39")
    path, _ = write_cover(load_config(yaml), tmp_path / "cover.pdf", 100, Diagnostics(echo=False))
    with pikepdf.open(path) as pdf:
        assert str(pdf.Root.OutputIntents[0].OutputConditionIdentifier) == "FOGRA39"


def test_bad_isbn_stops_before_anything_is_drawn(tmp_path: Path) -> None:
    yaml = sample(tmp_path, extra="isbn: 978-7-115-54608-2\n")
    with pytest.raises(BookError) as exc:
        write_cover(load_config(yaml), tmp_path / "cover.pdf", 100, Diagnostics(echo=False))
    (problem,) = exc.value.problems
    assert "check digit 2, not 1" in problem.message and problem.line is not None
    assert not (tmp_path / "cover.pdf").exists()


def test_isbn_parsing() -> None:
    assert isbn_mod.parse("ISBN 978-7-115-54608-1").digits == "9787115546081"
    assert isbn_mod.parse("0-306-40615-2").digits == "9780306406157"  # ISBN-10 → ISBN-13
    for bad in ("12345", "977-7-115-54608-1", 3.5):
        with pytest.raises(isbn_mod.InvalidISBN):
            isbn_mod.parse(bad)


def test_paper_table_and_caliper(tmp_path: Path) -> None:
    config = load_config(sample(tmp_path / "a", print_options="paper: 80克轻型纸"))
    assert press.caliper_mm(config) == 0.14
    assert spread(config, 300).spine == pytest.approx(150 * 0.14, abs=0.01)
    config = load_config(sample(tmp_path / "b", print_options="caliper_mm: 0.1\nspine_extra_mm: 1"))
    assert press.spine_mm(config, 301) == pytest.approx(151 * 0.1 + 1, abs=0.01)
    with pytest.raises(BookError, match="unknown paper"):
        press.caliper_mm(load_config(sample(tmp_path / "c", print_options="paper: 宣纸")))


def test_spine_runs_keep_chinese_upright_and_latin_turned() -> None:
    assert spine_runs("AI简史 GPT-4") == [("AI", False), ("简", True), ("史", True), (" ", False), ("GPT-4", False)]


def test_press_profile_keeps_greys_in_black_only() -> None:
    intent = press.INTENTS["JC200103"]
    assert press.rgb_to_cmyk((0, 0, 0), intent) == (0, 0, 0, 1.0)
    assert press.rgb_to_cmyk((128, 128, 128), intent)[:3] == (0, 0, 0)
    c, m, y, k = press.rgb_to_cmyk((200, 30, 40), intent)
    assert m > 0.8 and y > 0.6 and c < 0.2, "a red is magenta and yellow"
    assert press.rgb_to_cmyk((255, 255, 255), intent) == (0, 0, 0, 0)


def _fake_interior(path: Path, pages: int) -> Path:
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(419.5, 595.3))
    pdf.save(path)
    return path


def test_spine_check_fails_when_the_interior_grew(tmp_path: Path) -> None:
    config = load_config(sample(tmp_path))
    cover, _ = write_cover(config, tmp_path / "cover.pdf", 240, Diagnostics(echo=False))
    same = {r.name: r for r in check_cover(config, cover, _fake_interior(tmp_path / "a.pdf", 240))}
    assert same["cover spine"].ok and same["cover barcode"].ok and same["cover print"].ok
    grown = {r.name: r for r in check_cover(config, cover, _fake_interior(tmp_path / "b.pdf", 256))}
    assert not grown["cover spine"].ok and "made for 240 pages" in grown["cover spine"].summary


def _epub_with(path: Path, identifiers: list[str]) -> Path:
    ids = "".join(f"<dc:identifier>{i}</dc:identifier>" for i in identifiers)
    opf = (
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata '
        f'xmlns:dc="http://purl.org/dc/elements/1.1/">{ids}</metadata><manifest/><spine/></package>'
    )
    container = (
        '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0"><rootfiles>'
        '<rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles></container>'
    )
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("META-INF/container.xml", container)
        z.writestr("content.opf", opf)
    return path


def test_epub_isbn_matches_print_or_its_own(tmp_path: Path) -> None:
    config = load_config(sample(tmp_path / "p"))
    assert check_epub_isbn(config, _epub_with(tmp_path / "a.epub", ["urn:isbn:9787115546081"])).ok
    assert not check_epub_isbn(config, _epub_with(tmp_path / "b.epub", ["urn:uuid:x"])).ok
    assert not check_epub_isbn(config, _epub_with(tmp_path / "c.epub", ["urn:isbn:9780306406157"])).ok
    e_config = load_config(sample(tmp_path / "e", extra=EXTRA + "epub:\n  isbn: 978-0-306-40615-7\n"))
    assert check_epub_isbn(e_config, _epub_with(tmp_path / "d.epub", ["urn:isbn:9780306406157"])).ok


def test_shipped_profiles_are_what_the_generator_makes() -> None:
    from PIL import ImageCms

    from book.cover.iccgen import CONDITIONS, ICC_DIR, profile_bytes

    cond = CONDITIONS["JC200103"]
    fresh = profile_bytes(cond)
    shipped = (ICC_DIR / cond.filename).read_bytes()
    assert len(fresh) == len(shipped) and fresh[:128] == shipped[:128]
    # Tables may differ in the last bit across floating-point libraries; never by more.
    a = memoryview(fresh[200:]).cast("B")
    b = memoryview(shipped[200:]).cast("B")
    assert sum(x != y for x, y in zip(a, b, strict=True)) < len(a) // 100
    profile = ImageCms.getOpenProfile(str(ICC_DIR / cond.filename))
    assert "Japan Color 2001 Coated" in ImageCms.getProfileDescription(profile)


def test_cover_options_are_typed_and_the_interior_takes_the_named_press(tmp_path: Path) -> None:
    from book.pdf.document import print_css
    from book.pdf.furniture import geometry

    yaml = sample(tmp_path / "a", print_options="output_intent: FOGRA39\ncover_marks: true\nbarcode_scale: 1")
    config = load_config(yaml)
    assert config.print.output_intent == "FOGRA39" and config.print.cover_marks is True
    assert config.print.barcode_scale == 1.0 and config.print.paper == "70g 胶版纸"
    assert config.isbn == ISBN and config.price == "68" and config.blurb.startswith("从图灵")
    assert geometry(config).icc_profile == press.INTENTS["FOGRA39"].profile
    assert "device-cmyk(" in print_css(config, "p { color: #8c1c1c; }")
    default = load_config(sample(tmp_path / "b"))
    assert default.print.output_intent is None and press.interior_intent(default) is None
    assert geometry(default).icc_profile != press.INTENTS["FOGRA39"].profile


def test_a_bad_cover_option_is_an_error_at_its_line(tmp_path: Path) -> None:
    yaml = sample(tmp_path / "a", print_options="output_intent: FOGRA99")
    config = load_config(yaml)
    with pytest.raises(BookError) as exc:
        press.output_intent(config)
    (problem,) = exc.value.problems
    written = yaml.read_text(encoding="utf-8").splitlines()
    assert "unknown output_intent" in problem.message and "FOGRA99" in written[problem.line - 1]
    with pytest.raises(BookError, match="'barcode_scale' must be at least 0.8"):
        load_config(sample(tmp_path / "b", print_options="barcode_scale: 0.5"))
