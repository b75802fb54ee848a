"""The visible watermark of a copy or export (第十七条第二款、第四款): who received it, when, under
which grant, in Simplified Chinese, repeated across the whole picture so no crop removes it.

The text is drawn once per output size with Pillow in the font the PDFs use; video frames,
photos and PDF pages then only blend the finished layer (see ``yuv.py`` for the video path).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime

from PIL import Image, ImageDraw

from liuhen.core.lazy import lazy_module
from liuhen.redaction.fonts import cjk_font

np = lazy_module("numpy")  # imported on first use (core.lazy)

Box = tuple[int, int, int, int]  # x, y, width, height in pixels


@dataclass(frozen=True)
class Watermark:
    """Lines of text burnt into every frame or page, and how strongly.

    ``opacity`` is that of the white letters (their dark outline is a little weaker); 0.3 to 0.5
    stays readable over the picture without hiding it. ``size`` is the letter height as a share
    of the picture's shorter side (at least 12 pixels).
    """

    lines: tuple[str, ...]
    opacity: float = 0.4
    size: float = 1 / 36

    def __post_init__(self) -> None:
        if not self.lines or not any(line.strip() for line in self.lines):
            raise ValueError("水印内容不能为空 / watermark text is empty")
        if not 0.05 <= self.opacity <= 1:
            raise ValueError("水印不透明度应在 0.05 至 1 之间 / opacity out of range")
        object.__setattr__(self, "lines", tuple(self.lines))

    def to_dict(self) -> dict:
        return {**asdict(self), "lines": list(self.lines)}

    SEPARATOR = " / "

    @property
    def text(self) -> str:
        """The lines as one text, as a register keeps them (``from_text`` reads it back)."""
        return self.SEPARATOR.join(self.lines)

    @classmethod
    def from_text(cls, text: str) -> Watermark:
        return cls(tuple(text.split(cls.SEPARATOR)))

    def font_px(self, width: int, height: int) -> int:
        return max(12, round(min(width, height) * self.size))


def watermark_lines(
    *,
    viewer_name: str,
    viewer_number: str,
    at: datetime,
    grant_number: str,
    purpose: str = "",
) -> Watermark:
    """The standard watermark: viewer and number, time (Beijing, to the minute), grant number."""
    lines = [
        f"{viewer_name} {viewer_number}",
        at.strftime("%Y-%m-%d %H:%M"),
        f"授权 {grant_number}",
        f"留痕 · {purpose or '仅限授权用途'} · 不得外传",
    ]
    return Watermark(tuple(lines))


def render_block(watermark: Watermark, font_px: int) -> Image.Image:
    """The text block on a transparent background: white letters with a dark outline, so the
    mark reads on light and dark scenes alike, at the watermark's opacity."""
    font = cjk_font().load(font_px)
    stroke = max(1, font_px // 14)
    spacing = font_px // 4
    probe = ImageDraw.Draw(Image.new("L", (1, 1)))
    text = "\n".join(watermark.lines)
    left, top, right, bottom = probe.multiline_textbbox(
        (0, 0), text, font=font, spacing=spacing, stroke_width=stroke
    )
    block = Image.new("RGBA", (right - left + 2, bottom - top + 2), (0, 0, 0, 0))
    ImageDraw.Draw(block).multiline_text(
        (1 - left, 1 - top),
        text,
        font=font,
        fill=(255, 255, 255, 255),
        spacing=spacing,
        stroke_width=stroke,
        stroke_fill=(0, 0, 0, 200),
    )
    alpha = np.asarray(block.getchannel("A"), dtype=np.float32) * watermark.opacity
    block.putalpha(Image.fromarray(alpha.round().astype(np.uint8)))
    return block


def render_overlay(watermark: Watermark, width: int, height: int) -> tuple[Image.Image, list[Box]]:
    """The watermark layer for a ``width``×``height`` picture, and the boxes that hold text.

    Blocks are laid like bricks (each row shifted by half a block) with gaps of about half a
    block, so every part of the picture larger than about two blocks carries a whole copy and
    the blocks cover roughly a third of the picture: the video path blends only those boxes.
    """
    block = render_block(watermark, watermark.font_px(width, height))
    bw, bh = block.size
    step_x, step_y = bw + max(bw // 2, 24), bh + max(bh // 2, 16)
    layer = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    boxes: list[Box] = []
    for row, y in enumerate(range(step_y // 4 - step_y, height, step_y)):
        shift = (step_x // 2) * (row % 2)
        for x in range(shift - step_x + step_x // 4, width, step_x):
            x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + bw, width), min(y + bh, height)
            if x1 - x0 < 2 or y1 - y0 < 2:
                continue
            layer.alpha_composite(block, (x0, y0), (x0 - x, y0 - y, x1 - x, y1 - y))
            boxes.append((x0, y0, x1 - x0, y1 - y0))
    return layer, boxes
