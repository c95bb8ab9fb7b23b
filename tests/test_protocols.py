"""Protocol helpers that aggregate finished runs (hand-made run records)."""

import json
import sys
from pathlib import Path

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
