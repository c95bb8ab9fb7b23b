"""Physiology measures against values computed by hand on constructed spike trains."""

import numpy as np
import pytest

from brian_edff import physiology as phys


def test_sparseness_of_one_hot_and_uniform_codes():
    one_hot = np.eye(5)
    np.testing.assert_allclose(phys.population_sparseness(one_hot), 1.0)
    np.testing.assert_allclose(phys.lifetime_sparseness(one_hot), 1.0)
    uniform = np.full((4, 6), 3.0)
    np.testing.assert_allclose(phys.population_sparseness(uniform), 0.0)
    # Two of four cells equally active: a = (1/2)^2 / (1/2) = 1/2, S = (1 - 1/2) / (3/4).
    np.testing.assert_allclose(phys.treves_rolls([[2, 2, 0, 0]]), [2 / 3])
    assert np.isnan(phys.population_sparseness(np.zeros((1, 3))))[0]
    with pytest.raises(ValueError, match="non-negative"):
        phys.treves_rolls([[1, -1]])


def test_silent_and_always_active_fractions():
    counts = np.array([[0, 1, 2, 0], [0, 3, 0, 0], [0, 1, 1, 0]])
    assert phys.silent_fraction(counts) == 0.5          # cells 0 and 3
    assert phys.always_active_fraction(counts) == 0.25  # cell 1


def test_selectivity_of_tuned_and_untuned_cells():
    labels = np.array([0, 0, 1, 1, 2, 2])
    counts = np.array([[4, 2, 0], [4, 2, 0], [0, 2, 0], [0, 2, 0], [0, 2, 0], [0, 2, 0]])
    means = phys.class_means(counts, labels, 3)
    np.testing.assert_array_equal(means[:, 0], [4, 0, 0])
    index = phys.selectivity_index(means)
    assert index[0] == 1.0 and index[1] == 0.0 and np.isnan(index[2])
    # Class means 3, 1, 1: (3 - 1) / (3 + 1).
    assert phys.selectivity_index(np.array([[3.0], [1.0], [1.0]]))[0] == 0.5


def test_mutual_information_of_a_perfect_and_an_independent_code():
    rng = np.random.default_rng(0)
    labels = np.repeat([0, 1], 500)
    perfect = np.where(labels == 0, 0, 3)[:, None]
    np.testing.assert_allclose(phys.mutual_information(perfect, labels),
                               1 - 1 / (2 * 1000 * np.log(2)))
    independent = rng.poisson(2.0, size=(1000, 1))
    assert phys.mutual_information(independent, labels)[0] < 0.01


def test_isi_cv_of_poisson_and_regular_trains():
    rng = np.random.default_rng(1)
    steps_per_window, windows = 10_000, 4
    poisson = np.flatnonzero(rng.random(steps_per_window * windows) < 0.05)
    regular = np.arange(0, steps_per_window * windows, 20)
    indices = np.concatenate([np.zeros(len(poisson), int), np.ones(len(regular), int)])
    steps = np.concatenate([poisson, regular])
    cv = phys.isi_cv(indices, steps, range(windows), 3, steps_per_window)
    assert abs(cv[0] - 1) < 0.05 and cv[1] == 0.0 and np.isnan(cv[2])


def test_isi_cv_ignores_intervals_across_windows_and_other_windows():
    # One spike at the end of window 0 and regular spikes in window 1 only.
    steps = np.array([9, 10, 12, 14, 16, 18, 20, 30])
    cv = phys.isi_cv(np.zeros(len(steps), int), steps, [1], 1, 10, min_intervals=1)
    assert cv[0] == 0.0          # intervals 2,2,2,2 within window 1; 9 and 20, 30 elsewhere


def test_fano_factor_of_poisson_and_fixed_counts():
    rng = np.random.default_rng(2)
    counts = np.column_stack([rng.poisson(4.0, 20_000), np.full(20_000, 3), np.zeros(20_000)])
    fano = phys.fano_factor(counts)
    assert abs(fano[0] - 1) < 0.05 and fano[1] == 0.0 and np.isnan(fano[2])
    with pytest.raises(ValueError, match="2 repeats"):
        phys.fano_factor(counts[:1])


def test_similarity_matrix_and_layer_summary():
    means = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    rsm = phys.similarity_matrix(means)
    np.testing.assert_allclose(rsm, [[1, 1, -1], [1, 1, -1], [-1, -1, 1]])
    labels = np.array([0, 1, 2])
    summary = phys.layer_summary(np.eye(3) * 2, labels, 3, window_s=0.5, min_spikes=2)
    assert summary["rate_hz"] == pytest.approx(4 / 3)
    assert summary["population_sparseness"] == 1.0 and summary["selectivity_index"] == 1.0
    assert summary["silent_fraction"] == 0.0 and summary["active_fraction"] == 1.0
    # Cells below min_spikes leave the selectivity undefined, not perfect.
    sparse = phys.layer_summary(np.eye(3), labels, 3, window_s=0.5, min_spikes=2)
    assert sparse["active_fraction"] == 0.0 and np.isnan(sparse["selectivity_index"])
