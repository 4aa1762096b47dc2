"""Everything about an image that may cost its count, said with the count: how its file was
saved (images.py), whether it is in focus (focus.py), whether it is overexposed, whether
its hairs show only faintly and whether air bubbles were found in the immersion fluid (here).

The image is still analysed: the clinician decides whether to take it again.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from follicle.trichoscopy.analyze import Analysis
from follicle.trichoscopy.focus import focus_warnings
from follicle.trichoscopy.hair import FAINT_HAIR_RATIO
from follicle.trichoscopy.images import ReadImage
from follicle.trichoscopy.skin import CLIPPED

#: An image with more than this share of its pixels clipped in two or three channels is
#: warned of as overexposed. On the benchmark images brightened by 15 % and 30 %
#: (docs/trichoscopy.md, "Exposure"), those with 1.5-32 % of such pixels (light skin gone
#: white) counted skin texture as hair, up to six times the true count; as taken no image
#: has any (one channel clipped alone is judged on the other two, Method step 1).
OVEREXPOSED_SHARE = 0.01

OVEREXPOSED = (
    "is overexposed ({share:.0f} % of it white in two or more colour channels): skin texture "
    "there may be counted as hair; lower the light or the exposure and take it again"
)


FAINT_HAIR = (
    "shows its hairs only faintly against the skin (the typical hair stands {ratio:.1f} times "
    "above what is taken for hair): thin and vellus hairs may be missed and the count read "
    "low; dye light hair before imaging, as the phototrichogram protocol does, and take it again"
)


def faint_hair_warnings(terminal_contrast_ratio: float | None) -> tuple[str, ...]:
    """A warning when the typical hair stands out less than :data:`FAINT_HAIR_RATIO` times
    above the weakest contrast kept as hair.

    >>> faint_hair_warnings(2.4)[0].startswith("shows its hairs only faintly")
    True
    >>> faint_hair_warnings(5.0), faint_hair_warnings(None)
    ((), ())
    """
    if terminal_contrast_ratio is None or terminal_contrast_ratio >= FAINT_HAIR_RATIO:
        return ()
    return (FAINT_HAIR.format(ratio=terminal_contrast_ratio),)


def overexposed_share(rgb: npt.NDArray[np.uint8]) -> float:
    """The share of pixels clipped in two or three channels (every fourth row and column).

    >>> rgb = np.full((40, 40, 3), 200, np.uint8)
    >>> rgb[:20, :, :2] = 255  # half the rows white in red and green
    >>> overexposed_share(rgb)
    0.5
    >>> rgb[20:, :, 0] = 255  # one channel alone is not overexposed
    >>> overexposed_share(rgb)
    0.5
    """
    sample = rgb[::4, ::4]
    clipped = (sample >= CLIPPED).sum(axis=2, dtype=np.uint8)
    return float((clipped >= 2).mean())


def exposure_warnings(rgb: npt.NDArray[np.uint8]) -> tuple[str, ...]:
    share = overexposed_share(rgb)
    if share <= OVEREXPOSED_SHARE:
        return ()
    return (OVEREXPOSED.format(share=100 * share),)


AIR_BUBBLES = (
    "shows {count} air bubble{s} in the immersion fluid: {their} rim{s} {were} left out, but a "
    "bubble crossed by a hair or touching another may still be counted as hair (on the "
    "benchmark, six bubbles an image left the count about 8 % high); press the bubbles out "
    "and take it again"
)


def air_bubble_warnings(air_bubbles: int) -> tuple[str, ...]:
    """A warning when air bubbles were found: those found are handled, but the ones that do
    not close round a hole (crossed by a hair, touching another) are not found, and where
    there is one there are often more (docs/trichoscopy.md, "Air bubbles").

    >>> air_bubble_warnings(2)[0].startswith("shows 2 air bubbles in the immersion fluid")
    True
    >>> air_bubble_warnings(0)
    ()
    """
    if air_bubbles == 0:
        return ()
    one = air_bubbles == 1
    return (
        AIR_BUBBLES.format(
            count=air_bubbles,
            s="" if one else "s",
            their="its" if one else "their",
            were="was" if one else "were",
        ),
    )


def image_warnings(read: ReadImage, analysis: Analysis) -> tuple[str, ...]:
    """What in an image may cost its count: how it was saved, its exposure, its focus, how
    faintly its hairs show, air bubbles in the immersion fluid."""
    return (
        read.warnings
        + exposure_warnings(read.rgb)
        + focus_warnings(analysis.edge_spread_um)
        + faint_hair_warnings(analysis.terminal_contrast_ratio)
        + air_bubble_warnings(len(analysis.air_bubble_outlines))
    )
