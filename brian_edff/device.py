"""brian_edff's Brian2 device, and the management of compiled builds.

``edff_standalone`` is Brian2's ``cpp_standalone`` device with the synaptic
event loop replaced, in the way brian2cuda and brian2genn derive their
devices: a subclass of :class:`~brian2.devices.cpp_standalone.device.CPPStandaloneDevice`
whose code objects render templates from ``brian_edff/templates`` first and
fall back to cpp_standalone's, file by file (``Templater.derive``). The
statements that run for every synapse are still the ones Brian2 generates
from the model's strings; only the loop around them is ours:

* ``synapses_classes.cpp``: a pathway with zero delay keeps no spike queue.
  Its synapses are sorted into rows by source neuron once per run.
* ``synapses_push_spikes.cpp``: such a pathway takes this step's events
  straight from the source's eventspace instead of copying every target
  synapse index into a queue.
* ``synapses.cpp``: the event loop walks the rows of the neurons that
  spiked (index ranges where the synapses of a neuron are contiguous, as
  ``connect`` creates them), in the order the queue would have delivered
  them, so results are identical to ``cpp_standalone``. With OpenMP threads,
  statements that write only synaptic and target variables and draw no
  random numbers are split by target block: each thread owns disjoint target
  neurons and every sum into a target keeps its serial order, so results do
  not depend on the thread count.

Pathways with delays keep Brian2's spike queue and template unchanged.

Besides the device, this module holds what the circuit needs to run on a
compiled device: the build cache (one compiled project per network shape and
model, shared by processes), the run_args files of one chunk, and the
results folders (:class:`StandaloneBuild`).
"""

from __future__ import annotations

import os
import re
import shutil
import time

import brian2
import numpy as np
from brian2 import TimedArray
from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject
from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
from brian2.devices.device import all_devices
from brian2.parsing.statements import parse_statement

__all__ = ["EdffStandaloneDevice", "EdffCodeObject", "DEVICE_NAME", "COMPILED_DEVICES",
           "StandaloneBuild", "default_cache_dir"]

#: Name under which the device is registered with Brian2 (``set_device``).
DEVICE_NAME = "edff_standalone"

#: Compiled devices the circuit can run on: ours (``"standalone"``) and
#: Brian2's plain ``cpp_standalone`` (the baseline it is held equal to).
COMPILED_DEVICES = {"standalone": DEVICE_NAME, "cpp_standalone": "cpp_standalone"}


class EdffCodeObject(CPPStandaloneCodeObject):
    """cpp_standalone code object rendering brian_edff's templates first."""

    templater = CPPStandaloneCodeObject.templater.derive("brian_edff")


_RANDOM_CALL = re.compile(r"\b(rand|randn|poisson)\s*\(")


def _written_variables(abstract_code) -> set:
    """Names assigned by the statements of a code block."""
    blocks = abstract_code.values() if isinstance(abstract_code, dict) else [abstract_code]
    written = set()
    for block in blocks:
        for line in block.split("\n"):
            line = line.split("#")[0].strip()
            if line:
                var, _op, _expr, _comment = parse_statement(line)
                written.add(var)
    return written


def thread_safe_by_target(abstract_code, variable_indices, target_index) -> bool:
    """Whether a pathway's statements may be split among threads by target.

    True when every variable they write is synaptic (``_idx``) or belongs to
    the target neuron (``target_index``), and they draw no random numbers:
    then threads that own disjoint targets never touch the same memory and
    each sum keeps its serial order.
    """
    blocks = abstract_code.values() if isinstance(abstract_code, dict) else [abstract_code]
    if any(_RANDOM_CALL.search(block) for block in blocks):
        return False
    return all(variable_indices.get(var, "_idx") in ("_idx", target_index)
               for var in _written_variables(abstract_code))


class EdffStandaloneDevice(CPPStandaloneDevice):
    """cpp_standalone with brian_edff's synaptic event loop (see module docstring).

    Attributes
    ----------
    synapse_threads : int
        OpenMP threads of the synaptic event loops (1: serial). Set it before
        the network is created; Brian2's own ``openmp_threads`` preference
        stays independent (and, when on, the event loops run serially).
    """

    def __init__(self):
        super().__init__()
        self.synapse_threads = 1

    def set_synapse_threads(self, n_threads: int) -> None:
        """Threads of the synaptic event loops (compiled in: set before building)."""
        if not isinstance(n_threads, int) or n_threads < 1:
            raise ValueError(f"synapse_threads: must be an integer >= 1, got {n_threads!r}")
        self.synapse_threads = n_threads
        for args in (self.extra_compile_args, self.extra_link_args):
            if n_threads > 1 and "-fopenmp" not in args:
                args.append("-fopenmp")
            if n_threads == 1 and "-fopenmp" in args:
                args.remove("-fopenmp")

    def code_object_class(self, codeobj_class=None, fallback_pref=None):
        return EdffCodeObject if codeobj_class is None else codeobj_class

    def code_object(self, owner, name, abstract_code, variables, template_name,
                    variable_indices, codeobj_class=None, template_kwds=None,
                    override_conditional_write=None, compiler_kwds=None):
        template_kwds = dict(template_kwds or {})
        if template_name == "synapses":
            pathway = template_kwds["pathway"]
            target_index = ("_postsynaptic_idx" if pathway.prepost == "pre"
                            else "_presynaptic_idx")
            template_kwds["edff_thread_safe"] = thread_safe_by_target(
                abstract_code, variable_indices, target_index)
            template_kwds["edff_threads"] = self.synapse_threads
        return super().code_object(
            owner, name, abstract_code, variables, template_name, variable_indices,
            codeobj_class=codeobj_class, template_kwds=template_kwds,
            override_conditional_write=override_conditional_write,
            compiler_kwds=compiler_kwds)


all_devices[DEVICE_NAME] = EdffStandaloneDevice()


def default_cache_dir() -> str:
    """Folder of compiled builds: ``$BRIAN_EDFF_CACHE`` or ``~/.cache/brian_edff``."""
    return os.environ.get("BRIAN_EDFF_CACHE", os.path.expanduser("~/.cache/brian_edff"))
