import numpy as np
import pytest
import torch

from benchmarks.depth_scatter import band_scatter, contrast_oracle, edge_energy


def test_band_scatter_ignores_scale_and_bias_and_measures_noise():
    g = np.random.default_rng(0).uniform(1.0, 50.0, (64, 208))  # noise rarely reaches the 80 m cap
    assert all(v == pytest.approx(0.0, abs=1e-9) for v in band_scatter(2.5 * g, g).values())
    compressed = 3.0 * g**0.8  # a layout error, no scatter within a band beyond its slope across the band
    noisy = g * np.exp(np.random.default_rng(1).normal(0.0, 0.2, g.shape))
    scatter = band_scatter(noisy, g)
    assert set(scatter) == {"0-10m", "10-20m", "20-40m", "40-80m"}
    assert all(v == pytest.approx(0.2 * np.sqrt(2 / np.pi), rel=0.1) for v in scatter.values())
    assert all(band_scatter(compressed, g)[band] < v for band, v in scatter.items())


def test_edge_energy_sees_steps_not_flat_or_scaled_depth():
    flat = torch.full((1, 1, 16, 16), 12.0)
    valid = torch.ones_like(flat, dtype=torch.bool)
    assert edge_energy(flat, valid) == pytest.approx(0.0, abs=1e-12)
    step = flat.clone()
    step[..., 8:] = 40.0
    assert edge_energy(step, valid) > 0.01
    assert edge_energy(3.0 * step, valid) == pytest.approx(edge_energy(step, valid), rel=1e-5)  # log depth: scale-free
    assert edge_energy(step, valid & (torch.arange(16) < 4)) == pytest.approx(0.0, abs=1e-12)  # away from the step


def test_contrast_oracle_undoes_a_compressed_layout_and_cannot_undo_noise():
    g = np.random.default_rng(0).uniform(2.0, 60.0, (64, 208))
    compressed = contrast_oracle(3.0 * g**0.7, g)  # the layout's proportions wrong, nothing else
    assert compressed["as_is"] > 0.1
    assert compressed["slope_1"] == pytest.approx(0.0, abs=1e-9)
    assert compressed["best_contrast"] < 0.02  # the nearest factor on the grid to 1 / 0.7
    noisy = contrast_oracle(g * np.exp(np.random.default_rng(1).normal(0.0, 0.2, g.shape)), g)  # right proportions
    assert noisy["slope_1"] == pytest.approx(noisy["as_is"], rel=0.02)
    assert noisy["as_is"] * 0.9 < noisy["best_contrast"] <= noisy["as_is"]  # shrinking the noise barely helps
