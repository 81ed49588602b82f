"""Reading rendered PDFs the way a person or an archive checker would: poppler-utils for text,
pages and fonts, pypdf for the XMP metadata."""

from __future__ import annotations

import io
import re
import subprocess
import tempfile
import xml.etree.ElementTree as ElementTree
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pypdf

# Marks pdftotext wraps around right-to-left runs, and the other invisible direction marks.
_BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_SPACES = re.compile(r"[\s\u00a0\u202f\u2009]+")

XMP_NAMESPACES = {
    "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
    "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
    "dc": "http://purl.org/dc/elements/1.1/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
}


@contextmanager
def _pdf_file(pdf: bytes) -> Iterator[str]:
    with tempfile.NamedTemporaryFile(suffix=".pdf") as handle:
        handle.write(pdf)
        handle.flush()
        yield handle.name


def _run(*args: str) -> str:
    # Fixed poppler commands on a temporary file this module wrote.
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout  # noqa: S603


def pdf_text(pdf: bytes, page: int | None = None, *, layout: bool = True) -> str:
    """What ``pdftotext`` reads (text outside the page is cropped away, so clipped text is
    missing); ``page`` counts from 1. Right-to-left marks added by pdftotext are removed, and
    so are the invisible break opportunities (U+200B) Remit puts into long unbroken runs."""
    with _pdf_file(pdf) as path:
        args = ["pdftotext", "-enc", "UTF-8"]
        if layout:
            args.append("-layout")
        if page is not None:
            args += ["-f", str(page), "-l", str(page)]
        return _BIDI_MARKS.sub("", _run(*args, path, "-")).replace("\u200b", "")


def pdf_pages(pdf: bytes) -> int:
    """The page count as pdfinfo reports it, checked against pypdf."""
    with _pdf_file(pdf) as path:
        match = re.search(r"^Pages:\s+(\d+)$", _run("pdfinfo", path), re.MULTILINE)
    assert match is not None
    pages = int(match.group(1))
    assert pages == len(pypdf.PdfReader(io.BytesIO(pdf)).pages)
    return pages


def pdf_page_size(pdf: bytes) -> tuple[float, float]:
    box = pypdf.PdfReader(io.BytesIO(pdf)).pages[0].mediabox
    return round(float(box.width), 1), round(float(box.height), 1)


@dataclass(frozen=True)
class PdfFont:
    name: str
    type: str
    embedded: bool
    subset: bool
    unicode: bool


def pdf_fonts(pdf: bytes) -> list[PdfFont]:
    """``pdffonts``: one row per font; the columns are read from the right because the name
    and type may contain spaces."""
    with _pdf_file(pdf) as path:
        output = _run("pdffonts", path)
    fonts = []
    for row in output.splitlines()[2:]:
        parts = row.split()
        if len(parts) < 7:
            continue
        emb, sub, uni = parts[-5:-2]
        fonts.append(
            PdfFont(
                name=parts[0],
                type=" ".join(parts[1:-6]),
                embedded=emb == "yes",
                subset=sub == "yes",
                unicode=uni == "yes",
            )
        )
    return fonts


def pdf_xmp(pdf: bytes) -> ElementTree.Element:
    """The document's XMP metadata stream, parsed."""
    reader = pypdf.PdfReader(io.BytesIO(pdf))
    stream = reader.trailer["/Root"]["/Metadata"].get_object()
    return ElementTree.fromstring(stream.get_data())  # noqa: S314 (our own renderer's output)


def xmp_value(xmp: ElementTree.Element, path: str) -> str:
    element = xmp.find(f".//{path}", XMP_NAMESPACES)
    assert element is not None, f"{path} not in the XMP metadata"
    return "".join(element.itertext()).strip()


def pdf_catalog(pdf: bytes) -> pypdf.generic.DictionaryObject:
    return pypdf.PdfReader(io.BytesIO(pdf)).trailer["/Root"]


def normalise(text: str) -> str:
    """Every run of whitespace (also no-break and narrow no-break spaces) as one space."""
    return _SPACES.sub(" ", text).strip()


def squash(text: str) -> str:
    """Without any whitespace: for CJK, where pdftotext adds spaces between scripts, and for
    sentences that wrap."""
    return _SPACES.sub("", text)


def save_png(pdf: bytes, prefix: Path, resolution: int = 60) -> list[Path]:
    """Rasterise every page with pdftoppm (for looking at a document by eye)."""
    with _pdf_file(pdf) as path:
        _run("pdftoppm", "-r", str(resolution), "-png", path, str(prefix))
    return sorted(prefix.parent.glob(f"{prefix.name}*.png"))
