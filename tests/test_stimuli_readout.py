"""Stimulus windows and readouts."""

import numpy as np
import pytest

from brian_edff import readout
from brian_edff.params import fast
from brian_edff.stimuli import (
    KIND,
    confused_labels,
    goodness_plan,
    readout_plan,
    training_plan,
)


def images(n=6, n_input=16, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, n_input)).astype(np.float32), np.arange(n) % 3


def test_supervised_plan_alternates_and_switches():
    x, y = images()
    params = fast().replace(head_window=False)
    plan = training_plan(x, y, params, "supervised", np.random.default_rng(1))
    assert plan.n_windows == 12
    np.testing.assert_array_equal(plan.kind[:4], [KIND["positive"], KIND["negative"]] * 2)
    pos, neg = plan.select(slice(0, None, 2)), plan.select(slice(1, None, 2))
    np.testing.assert_array_equal(pos.context_label, y)
    assert (neg.context_label != y).all() and (neg.context_label >= 0).all()
    np.testing.assert_array_equal(pos.pixels, neg.pixels)
    assert (pos.y_target == 1).all() and (neg.y_target == 0).all()
    assert (pos.classifier_on == 1).all() and (neg.classifier_on == 0).all()
    assert (neg.recon_on == 0).all()


def test_head_window_and_frozen_control():
    x, y = images()
    params = fast().replace(head_window=True)
    plan = training_plan(x, y, params, "supervised", np.random.default_rng(1), csdp=False)
    assert plan.n_windows == 18 and (plan.csdp_on == 0).all()
    head = plan.select(plan.kind == KIND["head"])
    assert (head.context_label == -1).all() and (head.classifier_on == 1).all()
    np.testing.assert_array_equal(head.target_label, y)
    positive = plan.select(plan.kind == KIND["positive"])
    assert (positive.classifier_on == 0).all()


def test_unsupervised_negatives_are_hybrids_without_context():
    x, y = images(n=30)
    plan = training_plan(x, y, fast().replace(head_window=False), "unsupervised",
                         np.random.default_rng(2))
    neg = plan.select(plan.kind == KIND["negative"])
    assert (plan.context_label == -1).all()
    assert not np.allclose(neg.pixels, x)
    assert (neg.pixels >= 0).all() and (neg.pixels <= 1).all()


def test_unknown_mode():
    x, y = images()
    with pytest.raises(ValueError, match="mode: unknown mode 'semi'"):
        training_plan(x, y, fast(), "semi", np.random.default_rng(0))


def test_chunks_pad_with_silent_windows():
    x, _ = images(n=5)
    plan = readout_plan(x, np.random.default_rng(0))
    chunks = list(plan.chunks(2))
    assert [start for start, _ in chunks] == [0, 2, 4]
    last = chunks[-1][1]
    assert last.n_windows == 2 and last.kind[1] == KIND["pad"] and last.pixels[1].sum() == 0


def test_goodness_plan_and_readout():
    x, _ = images(n=3)
    plan = goodness_plan(x, 4, np.random.default_rng(0))
    np.testing.assert_array_equal(plan.context_label, np.tile(np.arange(4), 3))
    goodness = np.zeros((12, 2))
    goodness[[1, 6, 11], 0] = 5.0
    np.testing.assert_array_equal(readout.goodness_predictions(goodness, 4), [1, 2, 3])


def test_reconstruction_errors_and_confusion():
    x = np.array([[1.0, 0.0], [0.0, 1.0]])
    bce, mse = readout.reconstruction_errors(x, x)
    assert bce < 1e-5 and mse < 1e-10
    bce, mse = readout.reconstruction_errors(np.full_like(x, 0.5), x)
    assert bce == pytest.approx(2 * np.log(2)) and mse == pytest.approx(0.5)
    cm = readout.confusion_matrix([0, 1, 1], [0, 1, 0], 2)
    np.testing.assert_array_equal(cm, [[1, 1], [0, 1]])
    assert readout.classifier_predictions([[0, 3, 1], [2, 0, 0]]).tolist() == [1, 0]


def test_confused_negatives_follow_the_confusion_matrix():
    confusion = np.zeros((4, 4))
    confusion[0, 3] = 97  # class 0 is mistaken for 3 most of the time
    labels = np.zeros(20000, dtype=int)
    drawn = confused_labels(labels, confusion, np.random.default_rng(0))
    assert (drawn != 0).all()
    share = np.bincount(drawn, minlength=4) / len(drawn)
    np.testing.assert_allclose(share, [0, 0.01, 0.01, 0.98], atol=0.005)
    other = confused_labels(np.full(1000, 2), confusion, np.random.default_rng(1))
    assert set(np.unique(other)) == {0, 1, 3}  # no confusions: uniform over wrong labels


def test_supervised_hybrid_negatives_keep_the_label_and_blend_the_image():
    from brian_edff.datasets import load_dataset
    from brian_edff.training import _epoch_negatives

    data = load_dataset("digits").subset(40)
    params = fast().replace(negatives="hybrid", head_window=False)
    order = np.arange(40)
    negatives = _epoch_negatives(data, order, params, "supervised",
                                 np.random.default_rng(3))
    plan = training_plan(data.train_x, data.train_y, params, "supervised",
                         np.random.default_rng(4), **negatives)
    pos, neg = plan.select(plan.kind == KIND["positive"]), plan.select(
        plan.kind == KIND["negative"])
    np.testing.assert_array_equal(neg.context_label, data.train_y)
    assert (neg.y_target == 0).all() and (pos.y_target == 1).all()
    # Half of each negative is the image itself, half an image of another class.
    other = 2 * neg.pixels - data.train_x
    assert np.abs(other - data.train_x).max(axis=1).min() > 0
    assert other.min() >= -1e-6 and other.max() <= 1 + 1e-6
    np.testing.assert_array_equal(pos.pixels, data.train_x.astype(np.float32))
