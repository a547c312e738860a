"""Every filed DSP family recipe makes sound at the shortest length the mixer asks for, at any rate."""

from __future__ import annotations

import numpy as np
import pytest

from ualm_agent.components.generators.composer import RENDER_MIN_S
from ualm_agent.components.sources import families


def _filed() -> list[str]:
    return sorted(set(families.labels().values()) | set(families.likenesses().values()))


@pytest.mark.parametrize("name", _filed())
def test_a_filed_recipe_is_audible_at_the_shortest_render_and_as_a_counted_repeat(name):
    fn = families.recipes()[name]
    for single in (False, True):
        x = fn(RENDER_MIN_S, 16000, np.random.default_rng(3), single)
        assert x.shape == (int(RENDER_MIN_S * 16000),) and np.all(np.isfinite(x))
        assert float(np.max(np.abs(x))) > 1e-4, f"{name} is silent at {RENDER_MIN_S} s (single={single})"


@pytest.mark.parametrize("rate", [16000, 32000, 44100])
def test_the_sneeze_renders_on_every_seed_and_rate(rate):
    fn = families.recipes()[families.labels()["Sneeze"]]
    seeds = range(200) if rate == 16000 else range(40)
    for seed in seeds:
        for d in (0.9, 1.3):
            x = fn(d, rate, np.random.default_rng(seed), True)
            assert x.shape == (int(round(d * rate)),) or x.shape == (int(d * rate),)
