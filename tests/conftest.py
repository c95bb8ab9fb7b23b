import os
import sys

from brian2 import prefs

import brian_edff.device  # noqa: F401  (registers the device's preferences)

sys.path.insert(0, os.path.dirname(__file__))

# Split every step's rows over the threads, however few synapses they hold,
# so that the small test circuits run the split paths of the device
# (devices.edff_standalone.min_parallel_synapses; the tests that start
# processes of the command line pass it on with --pref, see test_cli.py).
prefs.devices.edff_standalone.min_parallel_synapses = 0

# One thread for the synaptic event loops wherever a test does not choose:
# the default otherwise follows the machine's load, which changes during the
# suite (the thread count is the run's, not the build's; Brian2's own
# cpp_standalone compiles its OpenMP threads in). Tests of two threads pass
# threads=2 (brian_edff.device.default_synapse_threads).
prefs.devices.edff_standalone.synapse_threads = 1

#: The same preferences as command-line options, for processes a test starts.
TEST_PREFS = ("--pref", "devices.edff_standalone.min_parallel_synapses=0",
              "--pref", "devices.edff_standalone.synapse_threads=1")
