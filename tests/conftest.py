import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

# Split every step's rows over the threads, however few synapses they hold,
# so that the small test circuits run the split paths of the device
# (brian_edff.device.MIN_PARALLEL_SYNAPSES; subprocesses inherit it).
os.environ.setdefault("BRIAN_EDFF_MIN_PARALLEL_SYNAPSES", "0")

# One thread for the synaptic event loops wherever a test does not choose:
# the default otherwise follows the machine's load, which changes during the
# suite (the thread count is the run's, not the build's; Brian2's own
# cpp_standalone compiles its OpenMP threads in). Tests of two threads pass
# threads=2 (brian_edff.device.default_synapse_threads).
os.environ.setdefault("BRIAN_EDFF_THREADS", "1")
