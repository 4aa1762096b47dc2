"""What a feature of the scalp drawn by the generator (the honeycomb network, peripilar
halos) takes from an image: the same scene rendered with and without it."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from follicle.trichoscopy.synth import TrichogramSpec, View, plan_hairs, render_view


def darkening(spec: TrichogramSpec, view: View, feature: str) -> np.ndarray:
    """How much ``feature`` (a spec field; 0 is none) took from each pixel and channel (the
    noise is the same both ways)."""
    hairs = plan_hairs(spec)
    plain = render_view(replace(spec, **{feature: 0.0}), hairs, view).rgb.astype(int)
    return plain - render_view(spec, hairs, view).rgb.astype(int)
