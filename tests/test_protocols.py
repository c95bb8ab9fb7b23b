"""Protocol helpers that aggregate finished runs (hand-made run records)."""

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "protocols"))

import multi_seed  # noqa: E402


def write_run(root, name, classifier, dev):
    run = root / name
    run.mkdir()
    test = {key: 0.5 for key in multi_seed.METRICS}
    test["classifier_accuracy"] = classifier
    metrics = {"test": test, "best_epoch": len(dev), "train_ms_per_image": 10.0,
               "dev": [{"epoch": k + 1, "classifier_accuracy": a} for k, a in enumerate(dev)]}
    (run / "metrics.json").write_text(json.dumps(metrics))


def test_summary_pairs_seeds_and_averages_dev_curves(tmp_path):
    write_run(tmp_path, "learned_seed0", 0.90, [0.80, 0.90])
    write_run(tmp_path, "learned_seed1", 0.94, [0.82, 0.94])
    write_run(tmp_path, "control_seed0", 0.88, [0.85, 0.86])
    write_run(tmp_path, "control_seed1", 0.88, [0.85, 0.88])
    write_run(tmp_path, "control_seed2", 0.70, [0.70, 0.70])   # no learned partner
    text = multi_seed.summarize(str(tmp_path))
    learned = next(line for line in text.splitlines() if line.startswith("| learned |"))
    assert "| 2 | 92.0 +- 2.0 |" in learned
    paired = next(line for line in text.splitlines() if "paired by seed" in line)
    assert "| 2 | +4.0 +- 2.0 |" in paired      # seeds 0 and 1 only: +2 and +6
    assert "* learned (2 seeds): 1: 81.0 +- 1.0, 2: 92.0 +- 2.0" in text
    assert (tmp_path / "summary.md").read_text() == text


def test_reference_classifiers_fit_the_circuits_split(tmp_path):
    import reference_classifiers

    reference_classifiers.main(["--dataset", "digits", "--hidden", "32", "--seeds", "0", "1",
                                "--max-epochs", "20", "--patience", "3",
                                "--out", str(tmp_path)])
    record = json.loads((tmp_path / "reference_classifiers.json").read_text())
    assert "scikit-learn" in record["provenance"]
    seed0 = record["results"]["0"]
    assert set(seed0) == {"logistic_pixels", "knn3", "svm_rbf", "mlp_32"}
    for result in seed0.values():
        assert 0.8 < result["test_accuracy"] <= 1.0   # 8x8 digits: every learner is good
    assert 1 <= seed0["mlp_32"]["best_epoch"] <= 20
    # The seed changes the dev split and therefore the training images.
    assert record["results"]["1"]["knn3"] != seed0["knn3"]
    assert "| svm_rbf | 2 |" in (tmp_path / "summary.md").read_text()


def test_reference_classifiers_reject_a_bad_size(tmp_path):
    import reference_classifiers

    with pytest.raises(SystemExit):
        reference_classifiers.main(["--hidden", "0", "--out", str(tmp_path)])
    with pytest.raises(SystemExit):
        reference_classifiers.main(["--dataset", f"idx:{tmp_path / 'absent'}",
                                    "--out", str(tmp_path / "out")])
    assert not any(tmp_path.iterdir())
