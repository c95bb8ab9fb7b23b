"""The command line: a real train + evaluate on the digits, and its error messages.

The training test compiles the fast circuit with cpp_standalone once (about a
minute on 2 cores when the build cache is cold) and is also the learning
test: trained on the digits, the circuit must classify far above chance,
its goodness must separate positive from negative windows, and it must beat
the same protocol with frozen hidden synapses on the goodness readout.
"""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import TEST_PREFS

from brian_edff.cli import main

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def cli(*args, timeout=900, prefs=()):
    """The command line in a process of its own, with the suite's device
    preferences (conftest.TEST_PREFS) and ``prefs`` (``NAME=VALUE``)."""
    options = [*TEST_PREFS] + [item for pref in prefs for item in ("--pref", pref)]
    return subprocess.run([sys.executable, "-m", "brian_edff", *options, *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    base = tmp_path_factory.mktemp("runs")
    runs = {}
    for name, extra in (("learned", []), ("frozen", ["--no-plasticity"])):
        out = base / name
        # Readout chunks one at a time here; evaluate runs two at once.
        result = cli("train", "--dataset", "digits", "--params", "fast", "--epochs", "2",
                     "--seed", "0", "--out", str(out), "--no-progress", *extra,
                     prefs=["devices.edff_standalone.parallel_runs=1"])
        assert result.returncode == 0, result.stderr[-2000:]
        runs[name] = out
    return runs


def test_run_directory_contents(trained):
    run = trained["learned"]
    for name in ("config.json", "metrics.json", "weights.npz", "checkpoint.npz",
                 "test_readouts.npz"):
        assert (run / name).is_file(), name
    config = json.loads((run / "config.json").read_text())
    assert config["seed"] == 0 and config["params"]["tau_m"] == "100 ms"
    assert {"brian2", "numpy", "git_revision"} <= set(config["provenance"])
    assert config["params"]["model"] == "default"
    assert config["model"]["name"] == "default" and "dv/dt" in config["model"]["eqs"]
    metrics = json.loads((run / "metrics.json").read_text())
    for key in ("classifier_accuracy", "goodness_accuracy", "probe_accuracy", "recon_bce",
                "recon_mse"):
        assert key in metrics["test"]
    assert len(metrics["dev"]) == 2 and metrics["train_wall_s"] > 0
    assert metrics["build_s"] >= 0


def test_learning_works(trained):
    learned = json.loads((trained["learned"] / "metrics.json").read_text())
    frozen = json.loads((trained["frozen"] / "metrics.json").read_text())
    test = learned["test"]
    assert test["classifier_accuracy"] > 0.5  # chance is 0.1
    assert test["probe_accuracy"] > 0.85
    last = learned["train"][-1]
    assert last["goodness1_positive"] > last["goodness1_negative"]
    assert test["goodness_accuracy"] > frozen["test"]["goodness_accuracy"] + 0.15


def test_evaluate_reproduces_metrics(trained):
    """The same metrics from the saved weights, with readout chunks two at a
    time where training scored them one at a time."""
    result = cli("evaluate", str(trained["learned"]), "--no-progress", "--jobs", "2")
    assert result.returncode == 0, result.stderr[-2000:]
    again = json.loads((trained["learned"] / "evaluation.json").read_text())["test"]
    saved = json.loads((trained["learned"] / "metrics.json").read_text())["test"]
    for key in ("classifier_accuracy", "goodness_accuracy", "probe_accuracy", "recon_bce"):
        assert again[key] == pytest.approx(saved[key], abs=1e-9), key
    readouts = np.load(trained["learned"] / "evaluation_readouts.npz")
    np.testing.assert_array_equal(readouts["classifier_predictions"],
                                  np.load(trained["learned"] / "test_readouts.npz")[
                                      "classifier_predictions"])


def test_extend_adds_head_epochs(trained, tmp_path):
    """``extend`` refits the heads on the final representation in a new run
    directory; the hidden weights stay, the source run is left as it was."""
    source = json.loads((trained["learned"] / "metrics.json").read_text())
    result = cli("extend", str(trained["learned"]), "--head-epochs",
                 str(source["head_epochs"] + 1), "--out", str(tmp_path / "more"),
                 "--no-progress")
    assert result.returncode == 0, result.stderr[-2000:]
    metrics = json.loads((tmp_path / "more" / "metrics.json").read_text())
    assert metrics["dev"][:len(source["dev"])] == source["dev"]
    assert len(metrics["dev"]) == len(source["dev"]) + 1
    before = np.load(trained["learned"] / "weights_last.npz")
    after = np.load(tmp_path / "more" / "weights_last.npz")
    np.testing.assert_array_equal(before["W1"], after["W1"])
    assert not np.array_equal(before["C1"], after["C1"])
    assert json.loads((trained["learned"] / "metrics.json").read_text()) == source


@pytest.mark.parametrize("args, message", [
    (["train", "--dataset", "cifar", "--out", "{tmp}/r"], "unknown data set 'cifar'"),
    (["train", "--params", "nope", "--out", "{tmp}/r"], "unknown parameter set 'nope'"),
    (["train", "--out", "{tmp}/full"], "exists and is not empty"),
    (["train", "--resume", "{tmp}"], "not a run directory"),
    (["evaluate", "{tmp}/fakerun"], "weights missing"),
    (["train", "--epochs", "0", "--out", "{tmp}/r2"], "epochs: must be >= 1"),
    (["extend", "{tmp}/fakerun", "--head-epochs", "2", "--out", "{tmp}/r3"],
     "not a finished run directory"),
])
def test_errors_are_one_line(tmp_path, capsys, args, message):
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "something").write_text("x")
    fake = tmp_path / "fakerun"
    fake.mkdir()
    (fake / "config.json").write_text(json.dumps(
        {"params": {"n_hidden1": 10, "n_hidden2": 10, "T": 5}, "dataset": "digits",
         "seed": 0}))
    code = main([a.replace("{tmp}", str(tmp_path)) for a in args])
    err = capsys.readouterr().err
    assert code == 2
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


@pytest.mark.parametrize("pref, message", [
    ("devices.edff_standalone.synapse_threads=two", "synapse_threads: must be an integer"),
    ("devices.edff_standalone.min_parallel_synapses=-5", "must be an integer >= 0"),
    ("devices.edff_standalone.vector_width=wide", "must be one of 128, 256, 512"),
    ("devices.edff_standalone.vector_width=384", "must be one of 128, 256, 512"),
    ("devices.edff_standalone.no_such_option=1", "is unregistered"),
    ("vector_width", "give NAME=VALUE")])
def test_bad_preference_is_one_line(tmp_path, capsys, pref, message):
    from brian_edff.device import device_prefs

    before = device_prefs()
    code = main(["--pref", pref, "train", "--dataset", "digits", "--out", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2 and message in err and err.count("\n") == 1
    assert not (tmp_path / "r").exists()
    assert device_prefs() == before


def test_preference_option_sets_the_device(tmp_path, capsys):
    from brian2 import prefs

    before = prefs.devices.edff_standalone.vector_width
    try:
        code = main(["--pref", "devices.edff_standalone.vector_width=256",
                     "--pref", "devices.edff_standalone.huge_pages=False", "train",
                     "--dataset", "digits", "--epochs", "0", "--out", str(tmp_path / "r")])
        assert code == 2 and "epochs: must be >= 1" in capsys.readouterr().err
        assert prefs.devices.edff_standalone.vector_width == 256
        assert prefs.devices.edff_standalone.huge_pages is False
    finally:
        prefs.devices.edff_standalone.vector_width = before
        prefs.devices.edff_standalone.huge_pages = True


def test_bad_model_file_is_one_line_without_brian2_warnings(tmp_path):
    """A model that fails its check: the one-line error is all of stderr
    (no warnings about the trial circuit's objects), and nothing is written."""
    model = tmp_path / "bad_model.py"
    model.write_text(
        "from brian_edff.models import DEFAULT_MODEL\n"
        "MODEL = DEFAULT_MODEL.derive('bad', 'an undefined current', eqs=DEFAULT_MODEL.eqs"
        ".replace('(-v + j)', '(-v + j + I_ext)'))\n")
    result = subprocess.run([sys.executable, "-m", "brian_edff", "train", "--dataset", "digits",
                             "--params", "fast", "--model", str(model),
                             "--out", str(tmp_path / "run")],
                            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "I_ext" in result.stderr, result.stderr
    assert "WARNING" not in result.stderr + result.stdout
    assert not (tmp_path / "run").exists()


def test_full_disk_during_training_keeps_the_checkpoint(tmp_path, capsys, monkeypatch):
    """The disk fills up while the second checkpoint is written: training ends
    with one line that names the disk, and the first checkpoint stays whole."""
    import errno

    from brian_edff import checkpoint

    real_write = checkpoint._atomic_write
    written = []

    def atomic_write(path, write):
        if path.endswith("checkpoint.npz"):
            written.append(path)
            if len(written) == 2:
                def write(handle):
                    handle.write(b"partial")
                    raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(path, write)

    monkeypatch.setattr(checkpoint, "_atomic_write", atomic_write)
    out = tmp_path / "run"
    code = main(["train", "--dataset", "digits", "--params", "fast", "--epochs", "1",
                 "--threads", "1", "--out", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"no space left on the disk that holds {out}" in err
    assert json.loads((out / "progress.json").read_text())["chunk"] == 1
    assert np.load(out / "checkpoint.npz")["W1"].shape == (64, 256)


def test_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a directory")
    code = main(["train", "--out", str(blocker / "run")])
    err = capsys.readouterr().err
    assert code == 2 and "cannot create run directory" in err and err.count("\n") == 1


def test_sigkill_then_resume_equals_uninterrupted(trained, tmp_path):
    """Kill a real training process mid-run; resuming ends as the uninterrupted run."""
    out = tmp_path / "killed"
    proc = subprocess.Popen([sys.executable, "-m", "brian_edff", *TEST_PREFS, "train",
                             "--dataset",
                             "digits", "--params", "fast", "--epochs", "2", "--seed", "0",
                             "--out", str(out), "--no-progress"], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    progress = out / "progress.json"
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        if progress.exists():
            state = json.loads(progress.read_text())  # atomic: never half-written
            if state["epoch"] >= 1 or state["chunk"] >= 3:
                break
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert not (out / "metrics.json").exists(), "the run finished before it was killed"
    result = cli("train", "--resume", str(out), "--no-progress")
    assert result.returncode == 0, result.stderr[-2000:]
    for name in ("weights.npz", "weights_last.npz"):
        with np.load(out / name) as resumed, np.load(trained["learned"] / name) as full:
            for key in full.files:
                np.testing.assert_array_equal(resumed[key], full[key], err_msg=key)
    resumed = json.loads((out / "metrics.json").read_text())["test"]
    full = json.loads((trained["learned"] / "metrics.json").read_text())["test"]
    assert resumed == full


def _start_and_wait(out, seed):
    proc = subprocess.Popen([sys.executable, "-m", "brian_edff", *TEST_PREFS, "train",
                             "--dataset",
                             "digits", "--params", "fast", "--epochs", "2", "--seed",
                             str(seed), "--out", str(out), "--no-progress"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 600
    while time.time() < deadline and proc.poll() is None:
        progress = out / "progress.json"
        if progress.exists() and json.loads(progress.read_text())["chunk"] >= 2:
            break
        time.sleep(0.02)
    return proc


def test_ctrl_c_and_sigterm_leave_a_resumable_run(trained, tmp_path):
    for sig in (signal.SIGINT, signal.SIGTERM):
        out = tmp_path / sig.name
        proc = _start_and_wait(out, seed=0)
        proc.send_signal(sig)
        _, err = proc.communicate(timeout=120)
        assert proc.returncode == 130, err[-2000:]
        assert f"train --resume {out}" in err and "Traceback" not in err
        assert json.loads((out / "progress.json").read_text())["chunk"] >= 2
        with np.load(out / "checkpoint.npz") as checkpoint:
            assert checkpoint["W1"].shape == (64, 256)


def test_checkpoint_from_other_shape_is_refused(trained, tmp_path, capsys):
    import shutil

    run = tmp_path / "other"
    shutil.copytree(trained["learned"], run)
    config = json.loads((run / "config.json").read_text())
    config["params"]["n_hidden1"] = 100
    (run / "config.json").write_text(json.dumps(config))
    code = main(["evaluate", str(run)])
    err = capsys.readouterr().err
    assert code == 2 and "different network shape" in err and err.count("\n") == 1
