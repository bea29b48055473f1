"""The CMP facade palette for the demo: swatches, snapping drawn colours, a map to start from.

The colours are `keras_gan.datasets.facades`'s (the label maps pix2pix-facades was
trained on): class k is `CMP_CLASS_COLORS[k]`. A drawn or uploaded map is snapped
pixel by pixel to the nearest palette colour before translation, because a brush's
anti-aliased edges and a JPEG's artefacts make colours the model never saw.
"""

from __future__ import annotations

import numpy as np

from keras_gan.datasets.facades import CMP_CLASS_COLORS, CMP_CLASS_NAMES, label_map_classes

#: A pixel farther than this (RGB distance) from every palette colour counts as "off the palette".
OFF_PALETTE_DISTANCE = 60.0


def hex_color(rgb) -> str:
    """'#rrggbb' of an (r, g, b) triple."""
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgb))


def palette_hex() -> list[str]:
    """The 12 class colours as '#rrggbb', in class order (the brush's colours)."""
    return [hex_color(c) for c in CMP_CLASS_COLORS]


def palette_html() -> str:
    """A legend: one swatch and name per class, for the page."""
    items = "".join(
        f'<span style="display:inline-block;margin:2px 8px 2px 0;white-space:nowrap">'
        f'<span style="display:inline-block;width:14px;height:14px;vertical-align:middle;'
        f'border:1px solid #888;background:{hex_color(c)}"></span> {name} <code>{hex_color(c)}</code></span>'
        for name, c in zip(CMP_CLASS_NAMES, CMP_CLASS_COLORS)
    )
    return f'<div id="palette">{items}</div>'


def snap_to_palette(image: np.ndarray) -> tuple[np.ndarray, float]:
    """`(map, off)`: each pixel of an RGB uint8 image (H, W, 3) replaced by its nearest class colour,
    and the fraction of pixels that were farther than OFF_PALETTE_DISTANCE from every colour
    (near 1 for a photo: not a label map)."""
    classes = label_map_classes(image[None])[0]
    snapped = CMP_CLASS_COLORS[classes]
    distance = np.sqrt(((image.astype(np.float32) - snapped.astype(np.float32)) ** 2).sum(-1))
    return snapped, float((distance > OFF_PALETTE_DISTANCE).mean())


def example_label_map(size: int = 256) -> np.ndarray:
    """A facade label map drawn in code (uint8, size x size x 3): a four-storey front with a
    cornice, windows with sills and blinds, balconies, a door and a shop front. Shipped as code,
    not a file, so the demo starts from it with no data set around."""
    color = dict(zip(CMP_CLASS_NAMES, CMP_CLASS_COLORS))
    s = size / 256.0
    image = np.empty((size, size, 3), np.uint8)
    image[:] = color["background"]

    def box(name: str, top: float, left: float, bottom: float, right: float) -> None:
        image[int(round(top * s)):int(round(bottom * s)), int(round(left * s)):int(round(right * s))] = color[name]

    box("facade", 24, 16, 256, 240)
    box("cornice", 24, 12, 36, 244)
    box("molding", 88, 16, 92, 240)
    box("molding", 140, 16, 144, 240)
    for left in (16, 232):
        box("pillar", 36, left, 256, left + 8)
    for top in (44, 96, 148):
        for left in (36, 86, 136, 186):
            box("window", top, left, top + 32, left + 34)
            box("blind", top, left, top + 6, left + 34)
            box("sill", top + 32, left - 2, top + 36, left + 36)
    box("balcony", 128, 82, 140, 124)
    box("balcony", 128, 132, 140, 174)
    box("deco", 38, 118, 44, 138)
    box("shop", 196, 24, 256, 110)
    box("door", 200, 150, 256, 178)
    box("window", 200, 190, 236, 226)
    return image
