"""The CJK font embedded in certificate PDFs, prepared once so each PDF is quick to make.

The source is Noto Sans SC (SIL Open Font License 1.1, see docs/certificates.md) as shipped by the PyPI
package justmytype-intl-cjk: a 17 MB variable font whose default weight is Thin. Loading it in fpdf2
for every PDF costs seconds, so it is built once into `{data_dir}/cache/fonts/<source hash>/`: a static
Regular (400) and Bold (700) instance holding only the characters a certificate normally needs (ASCII,
punctuation, CJK symbols, full-width forms and the 3,755 common hanzi of GB 2312 level 1, which
Python's codecs know offline), and a second pair with the 3,008 hanzi of GB 2312 level 2, loaded only
when a text uses one of them. A name with a rarer character still gets a small extra font with just
those characters, cached the same way; fpdf2 falls back from one font to the next. `ACADEMY_CERTIFICATE_FONT` may name
another CJK TTF/OTF (a Noto Serif SC, say) instead.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

from fontTools import subset
from fontTools.ttLib import TTFont
from fontTools.varLib import instancer

from backend.config import Settings

log = logging.getLogger("academy.certificates")
BUILD_VERSION = "2"
PACKAGED_FONT = "fonts/ofl/notosanssc/NotoSansSC[wght].ttf"
FAMILY = "Noto Sans SC"
WEIGHTS = {"regular": 400, "bold": 700}
_BUILD_LOCK = threading.Lock()


@dataclass(frozen=True)
class FontFiles:
    regular: Path
    bold: Path
    codepoints: frozenset[int] = field(repr=False)


def source_font(settings: Settings) -> Path:
    if settings.certificate_font is not None:
        return Path(settings.certificate_font).expanduser()
    return Path(str(files("justmytype_intl_cjk") / PACKAGED_FONT))


@lru_cache(maxsize=8)
def _file_digest(path: Path, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:20]


def source_digest(path: Path) -> str:
    stat = path.stat()
    return _file_digest(path, stat.st_size, stat.st_mtime_ns)


def _gb2312(rows: range) -> set[int]:
    points = set()
    for high in rows:
        for low in range(0xA1, 0xFF):
            try:
                points.add(ord(bytes([high, low]).decode("gb2312")))
            except UnicodeDecodeError:
                continue
    return points


def base_codepoints() -> set[int]:
    """What most certificates are made of: the 3,755 common hanzi of GB 2312 level 1 and the rest."""
    points = set(range(0x20, 0x7F)) | {0xA0, 0xB7, 0xD7, 0xF7}
    points |= set(range(0x2010, 0x2070)) | set(range(0x2460, 0x2474))  # punctuation, ①–⑳
    points |= set(range(0x3000, 0x3040)) | set(range(0xFF00, 0xFFF0))  # CJK symbols, full-width forms
    return points | _gb2312(range(0xB0, 0xD8))


def more_codepoints() -> set[int]:
    """The 3,008 hanzi of GB 2312 level 2: a second prepared font, added only when a text needs it
    (the cost of a PDF grows with the glyphs of the fonts it loads)."""
    return _gb2312(range(0xD8, 0xF8))


def cache_dir(settings: Settings, source: Path) -> Path:
    return settings.data_dir / "cache" / "fonts" / f"{source_digest(source)}-v{BUILD_VERSION}"


@contextmanager
def _exclusive(folder: Path) -> Iterator[None]:
    """One builder at a time, across threads and worker processes."""
    folder.mkdir(parents=True, exist_ok=True)
    with _BUILD_LOCK, (folder / ".lock").open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def certificate_fonts(settings: Settings) -> FontFiles:
    """The prepared Regular and Bold fonts of the common characters (built now if need be)."""
    source = source_font(settings)
    return _load_or_build(cache_dir(settings, source), source, "base", frozenset(base_codepoints()))


def fonts_for(settings: Settings, text: str) -> list[FontFiles]:
    """The fonts a certificate with `text` needs: the common one, then (only when used) GB 2312 level 2,
    then a small font made for rarer characters; fpdf2 falls back along the list."""
    base = certificate_fonts(settings)
    wanted = {ord(char) for char in text if ord(char) > 0x20} - base.codepoints
    chosen = [base]
    if not wanted:
        return chosen
    source = source_font(settings)
    more = _load_or_build(cache_dir(settings, source), source, "more", frozenset(more_codepoints()))
    if wanted & more.codepoints:
        chosen.append(more)
    wanted -= more.codepoints
    available = wanted & _source_codepoints(source, source_digest(source))
    if available != wanted:
        log.warning("the certificate font has no glyph for %r", "".join(sorted(map(chr, wanted - available))))
    if available:
        name = "extra-" + hashlib.sha256(",".join(map(str, sorted(available))).encode()).hexdigest()[:16]
        chosen.append(_load_or_build(cache_dir(settings, source), source, name, frozenset(available)))
    return chosen


@lru_cache(maxsize=4)
def _source_codepoints(source: Path, _digest: str) -> frozenset[int]:
    return frozenset(TTFont(source, lazy=True).getBestCmap())


def _load_or_build(folder: Path, source: Path, name: str, wanted: frozenset[int]) -> FontFiles:
    regular, bold, index = (
        folder / f"{name}-regular.ttf",
        folder / f"{name}-bold.ttf",
        folder / f"{name}.json",
    )
    if not index.exists():
        with _exclusive(folder):
            if not index.exists():
                _build(source, wanted, regular=regular, bold=bold, index=index)
    return _read_index(regular, bold, index)


@lru_cache(maxsize=64)
def _read_index(regular: Path, bold: Path, index: Path) -> FontFiles:
    points = frozenset(json.loads(index.read_text())["codepoints"])
    return FontFiles(regular=regular, bold=bold, codepoints=points)


def _build(source: Path, wanted: frozenset[int], *, regular: Path, bold: Path, index: Path) -> None:
    """Subset first (instancing 30,000 glyphs takes minutes), then pin the weight axis."""
    log.info("preparing the certificate font %s (%d characters) from %s", index.stem, len(wanted), source)
    for name in ("fontTools.subset", "fontTools.varLib.instancer", "fontTools.ttLib"):
        logging.getLogger(name).setLevel(logging.WARNING)  # they log every glyph name at INFO
    font = TTFont(source)
    present = set(font.getBestCmap()) & wanted
    options = subset.Options()
    options.layout_features = []  # CJK needs no shaping; keeps the files small
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    options.drop_tables += ["GSUB", "GPOS", "GDEF", "BASE", "vhea", "vmtx", "VVAR"]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=present)
    subsetter.subset(font)
    variable = "fvar" in font
    for target, style in ((regular, "regular"), (bold, "bold")):
        instance = (
            instancer.instantiateVariableFont(font, {"wght": WEIGHTS[style]}, inplace=False)
            if variable
            else font
        )
        if variable:
            _name_instance(instance, style)
        tmp = target.with_suffix(f".{os.getpid()}.tmp")
        instance.save(tmp)
        os.replace(tmp, target)
    tmp_index = index.with_suffix(f".{os.getpid()}.tmp")
    tmp_index.write_text(json.dumps({"source": str(source), "codepoints": sorted(present)}))
    os.replace(tmp_index, index)


def _name_instance(font: TTFont, style: str) -> None:
    """An instance keeps the variable font's default names (Thin); name it for what it is."""
    subfamily = "Bold" if style == "bold" else "Regular"
    table = font["name"]
    for name_id in (16, 17, 25):
        table.removeNames(nameID=name_id)
    table.setName(FAMILY, 1, 3, 1, 0x409)
    table.setName(subfamily, 2, 3, 1, 0x409)
    table.setName(f"{FAMILY} {subfamily}", 4, 3, 1, 0x409)
    table.setName(f"NotoSansSC-{subfamily}", 6, 3, 1, 0x409)
    font["OS/2"].usWeightClass = WEIGHTS[style]


def is_prepared(settings: Settings) -> bool:
    source = source_font(settings)
    folder = cache_dir(settings, source)
    return (folder / "base.json").exists() and (folder / "more.json").exists()


def warm_in_background(settings: Settings) -> None:
    """Start preparing the fonts without waiting (a page that leads to a PDF download calls this)."""
    if is_prepared(settings):
        return

    def prepare() -> None:
        try:
            warm(settings)
        except Exception:
            log.exception("could not prepare the certificate font")

    threading.Thread(target=prepare, name="academy-certificate-font", daemon=True).start()


def warm(settings: Settings) -> FontFiles:
    """Prepare the fonts now (for `academy init`), so the first PDF does not wait for it."""
    fonts_for(settings, chr(min(more_codepoints())))  # builds the level-2 font too
    return certificate_fonts(settings)
