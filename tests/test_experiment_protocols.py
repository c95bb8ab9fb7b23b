"""The neuroscience protocols (lesions, physiology, robustness) end to end on
tiny saved runs, and their refusals of bad arguments."""

import csv
import os
import sys
from pathlib import Path

import pytest
from brian2 import ms, prefs

from brian_edff.datasets import load_dataset
from brian_edff.params import Params
from brian_edff.training import train

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "protocols"))

import lesions  # noqa: E402
import physiology  # noqa: E402
import robustness  # noqa: E402
from _common import run_protocol, sample_images  # noqa: E402

T = 8
#: Few images, the runtime device: every protocol in seconds.
SMALL = ["--device", "runtime", "--limit", "12", "--probe-limit", "40"]


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory):
    prefs.codegen.target = "numpy"
    digits = load_dataset("digits", 0).subset(n_train=30, n_dev=10, n_test=10)
    params = Params(n_hidden1=10, n_hidden2=6, T=T, dt=1 * ms, tau_m=10 * ms,
                    tau_tr=5 * ms, R_m=0.5, R_inh=0.1, theta_g1=2.0, theta_g2=1.0,
                    eta=0.02, eta_head=0.1, chunk_windows=128, epochs=1)
    root = tmp_path_factory.mktemp("runs")
    runs = {}
    for arm, plastic, lesions_ in (("learned", True, ()), ("control", False, ()),
                                   ("no_lateral", True, ("lateral",))):
        runs[arm] = str(root / arm)
        train(digits, params.replace(lesions=list(lesions_)), runs[arm], device="runtime",
              progress=False, seed=0, plasticity=plastic)
    return runs


@pytest.fixture(autouse=True)
def numpy_target():
    prefs.codegen.target = "numpy"


def rows(path):
    with open(path) as handle:
        return list(csv.DictReader(handle))


def test_lesions_end_to_end(tiny_runs, tmp_path):
    out = tmp_path / "lesions"
    argv = ["--run", tiny_runs["learned"], "--run", tiny_runs["no_lateral"],
            "--lesions", "layer2", "Y1+Y2", "--out", str(out), "--format", "svg", *SMALL]
    assert run_protocol(lesions.main, argv) == 0
    table = rows(out / "lesions.csv")
    learned = {(r["lesion"], r["readout"]): r for r in table
               if r["arm"] == "learned" and not r["trained_without"]}
    assert set(lesion for lesion, _ in learned) == {"intact", "layer2", "Y1+Y2"}
    assert learned[("layer2", "goodness_accuracy")]["value"]
    assert float(learned[("intact", "probe_accuracy")]["change"]) == 0
    for r in table:
        assert float(r["change"]) == pytest.approx(float(r["value"]) - float(r["intact"]))
    trained = [r for r in table if r["lesion"] == "trained without M1+M2"]
    assert len(trained) == 4 and all(r["arm"] == "learned" for r in trained)
    assert "| learned, trained without M1+M2 | layer2 |" in (out / "lesions.md").read_text()
    assert os.path.getsize(out / "lesions.svg") > 1000


def test_physiology_end_to_end(tiny_runs, tmp_path):
    out = tmp_path / "physiology"
    argv = ["--run", tiny_runs["learned"], "--run", tiny_runs["control"], "--out", str(out),
            "--repeats", "3", "--repeat-images", "2", "--record-windows", "6", "--cells", "3",
            *SMALL]
    assert run_protocol(physiology.main, argv) == 0
    table = rows(out / "physiology.csv")
    n_labels = 10
    assert len(table) == 2 * 2 * (len(physiology.MEASURES) + n_labels)
    assert {r["measure"] for r in table} >= {f"rate_hz_class_{k}" for k in range(n_labels)}
    values = {(r["arm"], r["layer"], r["measure"]): float(r["value"]) for r in table}
    for arm in ("learned", "control"):
        for layer in ("z1", "z2"):
            assert 0 <= values[(arm, layer, "silent_fraction")] <= 1
            assert values[(arm, layer, "rate_hz")] >= 0
    assert "| z2 | fano_factor |" in (out / "physiology.md").read_text()
    for name in ("physiology", "tuning", "similarity", "time_course"):
        assert os.path.getsize(out / f"{name}.png") > 5000, name


def test_robustness_end_to_end(tiny_runs, tmp_path):
    out = tmp_path / "robustness"
    argv = ["--run", tiny_runs["learned"], "--run", tiny_runs["control"], "--out", str(out),
            "--conditions", "noise:0.3", "occlude:top", "--no-goodness", *SMALL]
    assert run_protocol(robustness.main, argv) == 0
    table = rows(out / "robustness.csv")
    conditions = {r["condition"] for r in table}
    assert conditions == {"clean", "noise:0.3", "occlude:top"}
    assert not any(r["readout"] == "goodness_accuracy" for r in table)
    hidden = [r for r in table if r["readout"] == "hidden_bce_per_pixel"]
    assert {r["condition"] for r in hidden} == {"occlude:top"} and len(hidden) == 2
    clean = {(r["arm"], r["readout"]): r["value"] for r in table if r["condition"] == "clean"}
    for r in table:
        if r["readout"] in ("classifier_accuracy", "probe_accuracy"):
            assert r["clean"] == clean[(r["arm"], r["readout"])]
    assert "| occlude:top | hidden_bce_per_pixel |" in (out / "robustness.md").read_text()
    for name in ("robustness", "completion"):
        assert os.path.getsize(out / f"{name}.png") > 5000, name


@pytest.mark.parametrize("module, argv, message", [
    (lesions, ["--lesions", "V3"], "lesions: unknown pathway 'V3'"),
    (lesions, ["--limit", "0"], "--limit: must be >= 1"),
    (robustness, ["--conditions", "noise:1.5"], "noise level must be in [0, 1]"),
    (robustness, ["--conditions", "blur:2"], "unknown kind 'blur'"),
    (physiology, ["--repeats", "1"], "--repeats: need at least 2"),
])
def test_bad_arguments_end_in_one_line_and_write_nothing(module, argv, message, tiny_runs,
                                                        tmp_path, capsys):
    out = tmp_path / "out"
    status = run_protocol(module.main, ["--run", tiny_runs["learned"], "--out", str(out),
                                        *argv])
    err = capsys.readouterr().err
    assert status == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_run_without_weights_is_refused(tiny_runs, tmp_path, capsys):
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "config.json").write_text(Path(tiny_runs["learned"], "config.json").read_text())
    out = tmp_path / "out"
    for module in (lesions, physiology, robustness):
        assert run_protocol(module.main, ["--run", str(broken), "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert "no weights.npz" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()


def test_image_samples_cover_the_classes_of_sorted_splits():
    digits = load_dataset("digits", 0)
    order = digits.test_y.argsort(kind="stable")
    digits.test_x, digits.test_y = digits.test_x[order], digits.test_y[order]
    sample = sample_images(digits, n_test=50, n_train=60)
    assert len(sample.test_y) == 50 and len(sample.train_y) == 60
    assert len(set(sample.test_y)) >= 8          # the first 50 would be 0s and 1s
    again = sample_images(digits, n_test=50)
    assert (again.test_x == sample.test_x).all()     # the same images for every run
    assert len(sample_images(digits).test_y) == len(digits.test_y)
