"""Brian2's own standalone-compatible tests on brian_edff's device.

The default suite runs the tests that exercise every template the device
replaces (:data:`brian_edff.brian2_suite.TEMPLATE_TESTS`: synaptic event
loops, pathways with delays and onto synapses, summed variables,
thresholders, state updaters); the whole standalone-compatible suite is
marked slow. Each runs in a process of its own (``brian2.test`` resets
Brian2's preferences and device).
"""

import subprocess
import sys

import pytest

from brian_edff.brian2_suite import TEMPLATE_TESTS, template_selection

pytestmark = pytest.mark.standalone


def run_suite(*args, timeout):
    return subprocess.run([sys.executable, "-m", "brian_edff.brian2_suite", *args],
                          capture_output=True, text=True, timeout=timeout)


def test_template_selection_names_existing_tests():
    import brian2.tests.test_neurongroup as neurongroup
    import brian2.tests.test_subgroup as subgroup
    import brian2.tests.test_synapses as synapses

    names = set(dir(synapses)) | set(dir(neurongroup)) | set(dir(subgroup))
    assert set(TEMPLATE_TESTS) <= names
    assert template_selection().count(" or ") == len(TEMPLATE_TESTS) - 1


def test_brian2_template_tests_pass_on_the_device():
    result = run_suite("--templates", timeout=1500)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "did complete successfully" in result.stdout


@pytest.mark.slow
def test_brian2_standalone_suite_passes_on_the_device():
    result = run_suite(timeout=6 * 3600)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr[-2000:]
