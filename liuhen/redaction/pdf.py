"""Watermarks for PDF copies: a text layer merged over every page with pypdf.

The layer is made by WeasyPrint, as the bureau's own PDFs are, in the same font (Noto Sans CJK
SC through fontconfig), so the mark stays real Chinese text: sharp at any zoom and searchable.
One layer is made per page size and reused. Pages with a /Rotate entry are first turned in
their content, so the mark reads upright as the page is shown.

A layer can be cut out of a PDF by someone with the tools and the will; a copy whose marks
must survive that should be rasterised instead (not done here: it destroys the text layer
and multiplies the size).
"""

from __future__ import annotations

import html
import io
from pathlib import Path

from liuhen.core.lazy import lazy_module
from liuhen.redaction.fonts import FAMILY
from liuhen.redaction.results import DerivedFile, finish
from liuhen.redaction.watermark import Watermark

pypdf = lazy_module("pypdf")  # imported on first use (core.lazy)


def watermark_pdf(*, source: str | Path, target: str | Path, watermark: Watermark) -> DerivedFile:
    """A new PDF with ``watermark`` over every page of ``source``."""
    source, target = Path(source), Path(target)
    if source.resolve() == target.resolve():
        raise ValueError("副本不能覆盖原始文件 / the copy must not overwrite the original")
    reader = pypdf.PdfReader(source)
    writer = pypdf.PdfWriter(clone_from=reader)
    layers: dict[tuple[float, float], object] = {}
    for page in writer.pages:
        if page.rotation:
            page.transfer_rotation_to_content()
        box = page.mediabox
        size = (round(float(box.width), 2), round(float(box.height), 2))
        if size not in layers:
            layers[size] = pypdf.PdfReader(io.BytesIO(_layer_pdf(watermark, *size))).pages[0]
        page.merge_transformed_page(
            layers[size], pypdf.Transformation().translate(float(box.left), float(box.bottom))
        )
    tmp = target.with_name(target.name + ".part")
    with open(tmp, "wb") as fh:
        writer.write(fh)
    tmp.replace(target)
    operations = {"pages": len(writer.pages), "watermark": watermark.to_dict(), "font": FAMILY}
    return finish(kind="watermarked-copy", source=source, target=target, operations=operations)


def _layer_pdf(watermark: Watermark, width_pt: float, height_pt: float) -> bytes:
    """A one-page PDF of ``width_pt``×``height_pt`` holding only the tiled watermark text."""
    from weasyprint import HTML  # heavy (Pango, fonts): loaded only when a PDF is marked

    font_pt = max(7.0, min(width_pt, height_pt) * watermark.size * 1.2)
    lines = "<br>".join(html.escape(line) for line in watermark.lines)
    block_w, block_h = font_pt * 16, font_pt * (len(watermark.lines) * 1.5 + 2.5)
    cells = []
    for row in range(int(height_pt // block_h) + 2):
        shift = (block_w / 2) * (row % 2) - block_w / 3
        for col in range(int(width_pt // block_w) + 2):
            cells.append(
                f'<div class="m" style="left:{shift + col * block_w:.1f}pt;'
                f'top:{row * block_h - block_h / 3:.1f}pt">{lines}</div>'
            )
    document = f"""<!doctype html><html><head><meta charset="utf-8"><style>
      @page {{ size: {width_pt}pt {height_pt}pt; margin: 0 }}
      html, body {{ margin: 0; width: {width_pt}pt; height: {height_pt}pt; overflow: hidden }}
      .m {{ position: absolute; white-space: nowrap; font-family: "{FAMILY}", sans-serif;
            font-size: {font_pt:.1f}pt; line-height: 1.5; color: rgb(120, 120, 120);
            opacity: {watermark.opacity}; transform: rotate(-20deg) }}
    </style></head><body>{"".join(cells)}</body></html>"""
    return HTML(string=document).write_pdf()
