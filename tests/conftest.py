import os
import sys

sys.path.insert(0, os.path.dirname(__file__))

# Split every step's rows over the threads, however few synapses they hold,
# so that the small test circuits run the split paths of the device
# (brian_edff.device.MIN_PARALLEL_SYNAPSES; subprocesses inherit it).
os.environ.setdefault("BRIAN_EDFF_MIN_PARALLEL_SYNAPSES", "0")
