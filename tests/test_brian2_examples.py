"""The test bed of Brian2's example scripts (``benchmarks/brian2_examples.py``):
how a script is set onto a device, and how results are compared."""

import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks"))

from brian2_examples import _MODULE, SEED, prepare, same_values  # noqa: E402


def test_runtime_script_gets_the_device_and_a_seed_after_its_import():
    source = ("from brian2 import (NeuronGroup,\n    run, ms)\n\n"
              "G = NeuronGroup(1, 'v : 1')\nrun(1*ms)\n")
    lines = prepare(source, "edff_standalone").splitlines()
    assert lines[:3] == ["from brian2 import (NeuronGroup,", "    run, ms)",
                         f"import brian2 as {_MODULE}; {_MODULE}.set_device('edff_standalone'); "
                         f"{_MODULE}.seed({SEED})"]
    assert lines[-1] == "run(1*ms)"


def test_standalone_script_keeps_its_options_and_seeds_after_set_device():
    source = ("import brian2 as b2\n"
              "if __name__ == '__main__':\n"
              "    b2.set_device('cpp_standalone', build_on_run=False)\n"
              "    net = b2.Network()\n")
    assert prepare(source, "edff_standalone").splitlines() == [
        "import brian2 as b2",
        "if __name__ == '__main__':",
        "    b2.set_device('edff_standalone', build_on_run=False)",
        f"    import brian2 as {_MODULE}; {_MODULE}.seed({SEED})",
        "    net = b2.Network()"]


def test_script_without_a_brian2_import_is_left_out():
    assert prepare("import numpy as np\nprint(np.pi)\n", "edff_standalone") is None


def test_values_compare_exactly(tmp_path):
    a, b, c = (str(tmp_path / f"{k}.npz") for k in "abc")
    np.savez(a, **{"G.v": np.array([0.5, np.nan]), "M.i": np.arange(3)})
    np.savez(b, **{"G.v": np.array([0.5, np.nan]), "M.i": np.arange(3)})
    np.savez(c, **{"G.v": np.array([0.5 + 1e-16, np.nan]), "M.i": np.arange(3)})
    assert same_values(a, b) == (True, 2, [])
    equal, n_values, differ = same_values(a, c)
    assert not equal and n_values == 2 and differ == ["G.v"]
