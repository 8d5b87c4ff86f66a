"""The cover of a 公众号 draft, drawn locally with Pillow: the title and 第N期 on the club's blue.

900 × 383 pixels (WeChat's 2.35 : 1 cover), PNG. Chinese needs a CJK font
(:func:`digest.charts.cjk_font`); without one the cover says ``Weekly · No. N`` and the group's
slug instead of drawing boxes.
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from digest.charts import cjk_font
from digest.labels import label

if TYPE_CHECKING:  # Pillow (~4 MB) is imported when a cover is drawn, not by every bot process
    from PIL import ImageDraw, ImageFont

WIDTH, HEIGHT = 900, 383
TOP, BOTTOM = (11, 99, 196), (6, 48, 110)  # the archive's accent blue, darker below


def _font(path: str | None, size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    from PIL import ImageFont

    if path:
        return ImageFont.truetype(path, size)
    return ImageFont.load_default(size=size)


def _fit(
    draw: ImageDraw.ImageDraw, text: str, path: str | None, size: int, width: int
) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    """The largest font up to ``size`` in which ``text`` fits ``width`` pixels."""
    while True:
        font = _font(path, size)
        if draw.textlength(text, font=font) <= width or size <= 16:
            return font
        size -= 4


def draw_cover(
    group_name: str, number: int, period: str = "", *, slug: str = "", lang: str = "zh"
) -> bytes:
    """The cover PNG of issue ``number``: ``<group>周报`` and ``第N期`` (and the period);
    ``<group> weekly digest`` and ``Issue N`` for an English group."""
    path = cjk_font()
    if lang == "en" and (path or group_name.isascii()):
        title, issue = label("en", "digest", group=group_name), f"Issue {number}"
    elif path:
        title, issue = f"{group_name}周报", f"第{number}期"
    else:
        title, issue = f"{slug or 'study club'} weekly", f"No. {number}"
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (WIDTH, HEIGHT), TOP)
    draw = ImageDraw.Draw(image)
    for y in range(HEIGHT):  # a vertical gradient
        t = y / (HEIGHT - 1)
        color = tuple(round(a + (b - a) * t) for a, b in zip(TOP, BOTTOM, strict=True))
        draw.line([(0, y), (WIDTH, y)], fill=color)
    draw.rectangle([60, 92, 68, 290], fill=(255, 255, 255))
    title_font = _fit(draw, title, path, 64, WIDTH - 160)
    draw.text((100, 92), title, font=title_font, fill=(255, 255, 255))
    draw.text((100, 190), issue, font=_font(path, 56), fill=(255, 214, 102))
    if period:
        draw.text((100, 262), period, font=_font(path, 24), fill=(210, 225, 245))
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=True)
    return out.getvalue()
