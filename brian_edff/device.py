"""brian_edff's Brian2 device and its preferences.

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
  them, so results are identical to ``cpp_standalone``. Index loads that
  are arithmetic are not made: the source of every synapse of a row is the
  neuron that spiked; the target of an all-to-all row, of each run of
  consecutive targets (all-to-all without the diagonal) and of the strided
  on_post rows of an all-to-all projection follows from the position. With OpenMP threads,
  statements that write only synaptic and target variables and draw no
  random numbers are split by target block: each thread owns disjoint target
  neurons and every sum into a target keeps its serial order, so results do
  not depend on the thread count. The count is the run's
  (``$BRIAN_EDFF_SYNAPSE_THREADS``), not the build's: one build runs with any.

* ``summed_variable.cpp``: a summed variable onto a one-cell group (the
  layer summaries) is summed in a register rather than through the target
  index and memory after every term, in the same order and with the same
  arithmetic (an empty asm statement keeps ``-ffast-math`` from splitting
  the sum), so the result is cpp_standalone's bit for bit.

* ``threshold.cpp``: a thresholder evaluates every neuron's condition into
  one byte per neuron first (a loop without branches, which the compiler
  vectorises), then appends the neurons whose condition holds in index
  order; cpp_standalone's loop appends inside the condition and never
  vectorises.
* ``stateupdate.cpp``: state updaters and ``run_regularly`` operations read
  a shared value (a variable linked to a one-cell group, such as a layer
  summary) once before the loop instead of in every iteration, which keeps
  the loop from vectorising in cpp_standalone.

Neither changes a statement or the order of anything: a loop the device
newly lets the compiler vectorise is one whose code calls no math function
with a vector form (:func:`may_vectorise`), so results stay cpp_standalone's.

Pathways with delays keep Brian2's spike queue and template unchanged.

Compiled projects of the circuit (the build cache, run_args files, results
folders, several runs of one build at once) are :mod:`brian_edff.builds`.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pathlib
import platform
import re

import brian2
import numpy as np
from brian2 import prefs
from brian2.core.preferences import BrianPreference, PreferenceError
from brian2.devices.cpp_standalone.codeobject import CPPStandaloneCodeObject
from brian2.devices.cpp_standalone.device import CPPStandaloneDevice
from brian2.devices.device import all_devices
from brian2.parsing.statements import parse_statement

__all__ = ["EdffStandaloneDevice", "EdffCodeObject", "DEVICE_NAME", "default_cache_dir",
           "default_synapse_threads", "default_parallel_runs", "device_prefs",
           "huge_pages_tunables", "templates_digest"]

#: Name under which the device is registered with Brian2 (``set_device``).
DEVICE_NAME = "edff_standalone"

#: Calls of math functions that glibc also provides in vector form (libmvec),
#: which gcc uses under Brian2's ``-ffast-math`` when it vectorises a loop;
#: the vector forms may round differently from the scalar functions.
_VECTOR_MATH_CALL = re.compile(
    r"\b(?:exp|expm1|exp2|log|log2|log10|log1p|pow|_brian_pow|sin|cos|tan|sinh|cosh|"
    r"tanh|asin|acos|atan|atan2|erf|erfc|cbrt|hypot)[fl]?\s*\(")

#: A generated load of a shared value inside a neuron loop, e.g. a variable
#: linked to a one-cell group: ``const float n_spikes = _ptr_array_summary_n_spikes[0];``
_SHARED_LOAD = re.compile(r"^\s*const\s+[\w:]+\s+\w+\s*=\s*(_ptr_array_\w+)\[0\];\s*$")


def _code_text(code) -> str:
    """Generated code as one string (Brian2 may pass a template its lines)."""
    return "\n".join(code) if isinstance(code, (list, tuple)) else code


#: A draw of a random number in generated code (``_rand(...)``, ``_randn(...)``,
#: ``_poisson(...)``): a call per element that no compiler vectorises.
_RANDOM_DRAW = re.compile(r"\b_?(?:rand|randn|poisson)\s*\(")


def may_vectorise(code: str) -> bool:
    """Whether a loop over this generated code may be left to the compiler to
    vectorise where cpp_standalone's loop is not vectorised.

    Not when it calls a math function with a vector form (the result could
    differ in the last bit from cpp_standalone's scalar call); comparisons,
    arithmetic, ``clip`` and table lookups vectorise to the same results.
    """
    return _VECTOR_MATH_CALL.search(_code_text(code)) is None


def vectorisable(code) -> bool:
    """Whether a loop over this generated code can gain from being vectorised:
    :func:`may_vectorise`, and it draws no random numbers (a call per element
    that keeps the loop scalar; a two-pass loop then only adds a pass)."""
    text = _code_text(code)
    return may_vectorise(text) and _RANDOM_DRAW.search(text) is None


def hoist_shared_loads(vector_code: str) -> tuple[str, str]:
    """Split the generated loads of shared values out of a neuron loop's code.

    Brian2 reads a value at index 0 (a variable linked to a one-cell group,
    such as a layer summary) inside the loop, through a pointer it cannot
    mark ``__restrict``, so the compiler must reload it after every store
    and does not vectorise the loop. Where the loop does not write that array
    the value is the same in every iteration: the load is moved before the
    loop. Returns ``(loads, rest)``; ``loads`` is empty where nothing moves
    or the code should stay scalar (:func:`may_vectorise`).
    """
    vector_code = _code_text(vector_code)
    if not may_vectorise(vector_code):
        return "", vector_code
    loads, rest = [], []
    for line in vector_code.split("\n"):
        match = _SHARED_LOAD.match(line)
        array = match.group(1) if match else None
        written = array and re.search(rf"\b{array}\[[^\]]*\]\s*[-+*/]?=(?!=)", vector_code)
        (loads if match and not written else rest).append(line)
    return "\n".join(loads), "\n".join(rest)


#: Calls in generated code of the library functions the synapses template
#: defines inline versions of: ``sqrt(x)`` and Brian2's ``_brian_pow(x, y)``
#: (not ``std::sqrt`` or a name that merely ends in ``sqrt``).
_INLINE_MATH_CALL = re.compile(r"(?<![\w:.])(sqrt|_brian_pow)\s*\(")


def inline_math(code) -> str:
    """Generated code calling ``_edff_sqrt`` and ``_edff_pow`` for ``sqrt`` and ``_brian_pow``.

    The synapses template defines them as gcc's built-in functions, with the
    overloads and promotions of ``std::sqrt`` and ``std::pow`` (which are
    those built-ins); defined under the template's optimisation pragma, they
    inline where the library's versions do not, so that a row that takes a
    square root or a square can be vectorised. Square roots are correctly
    rounded in vector form too, and gcc folds ``pow(x, 2)`` to ``x * x``.
    """
    return _INLINE_MATH_CALL.sub(lambda m: "_edff_" + m.group(1).removeprefix("_brian_") + "(",
                                 _code_text(code))


class EdffCodeObject(CPPStandaloneCodeObject):
    """cpp_standalone code object rendering brian_edff's templates first."""

    templater = CPPStandaloneCodeObject.templater.derive("brian_edff")


EdffCodeObject.templater.env.globals.update(edff_may_vectorise=may_vectorise,
                                            edff_vectorisable=vectorisable,
                                            edff_hoist_shared_loads=hoist_shared_loads,
                                            edff_inline_math=inline_math)


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


def writes_target_read_elsewhere(abstract_code, variables, variable_indices,
                                 target_index) -> bool:
    """Whether an array the statements write through the target index is also
    read through another index (in a recurrent pathway such as the lateral
    ``M1``, ``z1`` onto ``z1``, a target variable may be read as the source's
    ``x_pre``, and the source neuron is one of the row's targets)."""
    written = {id(variables[name]) for name in _written_variables(abstract_code)
               if name in variables and variable_indices.get(name, "_idx") == target_index}
    return any(id(variable) in written and variable_indices.get(name) != target_index
               for name, variable in variables.items())


def independent_rows(abstract_code, variables, variable_indices, target_index) -> bool:
    """Whether the iterations of a row (distinct synapses, distinct targets)
    are independent of each other, so that the row's loop may be declared free
    of loop-carried dependences (``#pragma GCC ivdep``).

    True when the statements may be split by target
    (:func:`thread_safe_by_target`) and no array they write through the target
    index is read through another one (:func:`writes_target_read_elsewhere`).
    Without the declaration gcc has to prove at run time that every written
    array is apart from every read one; with more than ten such pairs (the
    adaptive step with lazy decay: ``w``, ``g2``, ``n_settled`` written, six
    arrays read) it gives up and leaves the row scalar. Vector and scalar
    forms of such a row compute the same values.
    """
    return (thread_safe_by_target(abstract_code, variable_indices, target_index)
            and not writes_target_read_elsewhere(abstract_code, variables,
                                                 variable_indices, target_index))


#: Appended to Brian2's makefile: ``objects.h`` (which pulls in ``<random>``,
#: ``<vector>``, the synapse classes and the network: about 66,000 lines once
#: preprocessed) is compiled once as a precompiled header and included first
#: in every source file (``-include``; its include guard makes the files' own
#: ``#include "objects.h"`` a no-op), instead of being parsed again for each
#: of the build's code objects (about 190 for the circuit). GCC ignores a
#: precompiled header made with other flags, so the worst case is the old
#: compile time. The flags are captured before the per-object ``-include`` is
#: added, since make passes a target's variables on to its prerequisites.
#: The header is an order-only prerequisite: it is made before the first
#: object, but a fresh header does not make current objects out of date
#: (they depend on ``objects.h`` itself through Brian2's ``make.deps``), so a
#: project rebuilt unchanged in its directory compiles nothing, as with
#: cpp_standalone. The cache of :class:`brian_edff.builds.StandaloneBuild` deletes the header
#: after its one compilation (tens of MB).
PRECOMPILED_HEADER_RULES = """
# brian_edff: objects.h as a precompiled header, parsed once for all code objects.
EDFF_PCH_FLAGS := $(CXXFLAGS)

objects.h.gch: objects.h $(H_SRCS) makefile
\t$(CXX) $(EDFF_PCH_FLAGS) -x c++-header objects.h -o objects.h.gch

$(OBJS): | objects.h.gch
$(OBJS): CXXFLAGS += -include objects.h
"""


def rows_apply(pathway) -> bool:
    """Whether brian_edff's event loop (rows of synapses between two ranges of
    neurons) applies to a synaptic pathway; otherwise it keeps Brian2's own
    templates.

    Not where the pathway's source or target is not a group of neurons with
    an index range (synapses onto synapses: the target is a ``Synapses``
    object), nor where the target is a single cell: every row then holds one
    synapse (or a few onto the same cell), and walking rows buys nothing
    over Brian2's spike queue (e.g. many inputs onto one cell with STDP).
    """
    groups = (pathway.source, pathway.target)
    if not all(hasattr(group, "start") and hasattr(group, "stop") for group in groups):
        return False
    return pathway.target.stop - pathway.target.start > 1


class _AppendToMakefile:
    """A project writer that appends ``rules`` to the makefile it writes."""

    def __init__(self, writer, rules: str):
        self._writer = writer
        self._rules = rules

    def write(self, filename, contents):
        if filename == "makefile":
            contents = contents + self._rules
        return self._writer.write(filename, contents)

    def __getattr__(self, name):
        return getattr(self._writer, name)


class EdffStandaloneDevice(CPPStandaloneDevice):
    """cpp_standalone with brian_edff's synaptic event loop (see module docstring).

    Every build is compiled with OpenMP; the number of threads of the
    synaptic event loops is the run's (``$BRIAN_EDFF_SYNAPSE_THREADS``, which
    :meth:`brian_edff.builds.StandaloneBuild.run` sets), so one build runs with any thread
    count. Brian2's own ``openmp_threads`` preference stays independent (and,
    when on, the event loops run serially).
    """

    def __init__(self):
        super().__init__()
        for args in (self.extra_compile_args, self.extra_link_args):
            if "-fopenmp" not in args:
                args.append("-fopenmp")

    def run(self, directory=None, results_directory=None, with_output=True, run_args=None):
        """Run the binary as cpp_standalone does (a user's ``device.build`` or
        ``run``), with the synaptic threads of
        ``prefs.devices.edff_standalone.synapse_threads`` (or its automatic
        choice) and huge pages (``huge_pages``)."""
        self.run_environment_variables["BRIAN_EDFF_SYNAPSE_THREADS"] = str(
            default_synapse_threads())
        tunables = huge_pages_tunables()
        if tunables:
            self.run_environment_variables["GLIBC_TUNABLES"] = tunables
        else:
            self.run_environment_variables.pop("GLIBC_TUNABLES", None)
        return super().run(directory=directory, results_directory=results_directory,
                           with_output=with_output, run_args=run_args)

    def code_object_class(self, codeobj_class=None, fallback_pref=None):
        return EdffCodeObject if codeobj_class is None else codeobj_class

    def generate_makefile(self, writer, compiler, compiler_flags, linker_flags,
                          nb_threads, debug):
        """Brian2's makefile, plus :data:`PRECOMPILED_HEADER_RULES` (gcc, clang).

        The rules are appended before the makefile is written, so that it is
        written once: Brian2's writer leaves a file with unchanged contents
        alone, and every object depends on the makefile, so a project built
        again unchanged in its directory compiles nothing.
        """
        if compiler != "msvc":
            writer = _AppendToMakefile(writer, PRECOMPILED_HEADER_RULES)
        super().generate_makefile(writer, compiler, compiler_flags, linker_flags,
                                  nb_threads, debug)


    def code_object(self, owner, name, abstract_code, variables, template_name,
                    variable_indices, codeobj_class=None, template_kwds=None,
                    override_conditional_write=None, compiler_kwds=None):
        template_kwds = dict(template_kwds or {})
        pathway = {"synapses": template_kwds.get("pathway"),
                   "synapses_push_spikes": owner}.get(template_name)
        if pathway is not None and not rows_apply(pathway):
            # A pathway our templates were not written for keeps Brian2's
            # templates (and its spike queue) for both of its code objects.
            codeobj_class = CPPStandaloneCodeObject
        elif template_name == "synapses":
            pathway = template_kwds["pathway"]
            target_index = ("_postsynaptic_idx" if pathway.prepost == "pre"
                            else "_presynaptic_idx")
            thread_safe = thread_safe_by_target(abstract_code, variable_indices, target_index)
            template_kwds["edff_thread_safe"] = thread_safe
            template_kwds["edff_independent_rows"] = (
                thread_safe and prefs[f"{PREFS}.independent_rows"]
                and not writes_target_read_elsewhere(abstract_code, variables,
                                                     variable_indices, target_index))
            template_kwds["edff_min_parallel"] = min_parallel_synapses()
            template_kwds["edff_vector_width"] = synapse_vector_width()
        return super().code_object(
            owner, name, abstract_code, variables, template_name, variable_indices,
            codeobj_class=codeobj_class, template_kwds=template_kwds,
            override_conditional_write=override_conditional_write,
            compiler_kwds=compiler_kwds)


all_devices[DEVICE_NAME] = EdffStandaloneDevice()


# --------------------------------------------------------------------------
# Preferences
# --------------------------------------------------------------------------

#: The category of the device's Brian2 preferences.
PREFS = "devices.edff_standalone"


def _validator(name: str, accepts, expected: str):
    """A preference validator that raises a one-line error naming the preference."""
    def validate(value):
        if not accepts(value):
            raise PreferenceError(f"{PREFS}.{name}: must be {expected}, got {value!r}")
        return True
    return validate


def _is_int(value, minimum: int) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool) \
        and value >= minimum


#: Default of ``vector_width``: vector registers, in bits, that gcc may use
#: for the on_pre row loops of the device's ``synapses.cpp`` on x86-64
#: (``#pragma GCC target ("prefer-vector-width=N")`` in those files only).
#: ``-march=native`` keeps to 256 bits on AVX-512 machines; the rows are
#: memory-bound runs of float32 (docs/speed.md). Only rows whose code writes
#: synaptic and target variables alone and calls no math function with a
#: vector form (:func:`may_vectorise`) get it, so the results stay
#: cpp_standalone's; on a CPU without AVX-512 nothing changes.
VECTOR_WIDTH = 512
VECTOR_WIDTHS = (128, 256, 512)
#: Default of ``min_parallel_synapses``: a step's rows are split over the
#: threads only where they hold at least this many synapses in all; below
#: it, opening a parallel region costs more than a second thread saves (a
#: few microseconds against under a nanosecond per synaptic event). The
#: split never changes results, only where it is used.
MIN_PARALLEL_SYNAPSES = 16384

prefs.register_preferences(
    PREFS, "Preferences of brian_edff's standalone device (edff_standalone)",
    synapse_threads=BrianPreference(
        default=0, validator=_validator("synapse_threads", lambda v: _is_int(v, 0),
                                        "an integer >= 0"),
        docs="""Threads of the synaptic event loops of a run when the caller does not
        choose (0: 2 where the machine has 2 or more cores and its 1-minute load
        average leaves more than 1.5 free, else 1). Results do not depend on it."""),
    parallel_runs=BrianPreference(
        default=0, validator=_validator("parallel_runs", lambda v: _is_int(v, 0),
                                        "an integer >= 0"),
        docs="""Binaries run at once for chunks that do not depend on each other (the
        readouts of an evaluation), one synaptic thread each (0: the cores the
        1-minute load average leaves free, at least 1)."""),
    min_parallel_synapses=BrianPreference(
        default=MIN_PARALLEL_SYNAPSES,
        validator=_validator("min_parallel_synapses", lambda v: _is_int(v, 0),
                             "an integer >= 0"),
        docs="""The fewest synapses in a step's rows for which they are split over the
        threads (a parallel region costs microseconds; part of the build)."""),
    vector_width=BrianPreference(
        default=VECTOR_WIDTH,
        validator=_validator("vector_width", lambda v: v in VECTOR_WIDTHS,
                             "one of " + ", ".join(map(str, VECTOR_WIDTHS))),
        docs="""Vector width, in bits, of the on_pre row loops on x86-64 with gcc (part
        of the build; results do not depend on it)."""),
    independent_rows=BrianPreference(
        default=True, validator=_validator("independent_rows", lambda v: isinstance(v, bool),
                                           "True or False"),
        docs="""Declare the rows of synapses whose iterations are independent free of
        loop-carried dependences (``#pragma GCC ivdep``), so that gcc vectorises them
        without run-time alias checks (part of the build; results do not depend on
        it)."""),
    huge_pages=BrianPreference(
        default=True, validator=_validator("huge_pages", lambda v: isinstance(v, bool),
                                           "True or False"),
        docs="""Start compiled binaries with glibc's transparent huge pages for large
        allocations (``GLIBC_TUNABLES=glibc.malloc.hugetlb=1``; memory layout only)."""),
    cache_directory=BrianPreference(
        default="", validator=_validator("cache_directory", lambda v: isinstance(v, str),
                                         "a path (a string)"),
        docs="""Folder of compiled builds, one per network shape and model
        ('': ~/.cache/brian_edff)."""),
)


def device_prefs() -> dict:
    """The device's preferences as ``{full name: value}`` (e.g. to hand them
    to worker processes, which start with the defaults)."""
    return {f"{PREFS}.{name}": prefs[f"{PREFS}.{name}"]
            for name in prefs.pref_register[PREFS][0]}


def default_cache_dir() -> str:
    """Folder of compiled builds: ``prefs.devices.edff_standalone.cache_directory``
    or ``~/.cache/brian_edff``."""
    return os.path.expanduser(prefs[f"{PREFS}.cache_directory"] or "~/.cache/brian_edff")


def default_synapse_threads() -> int:
    """Threads of the synaptic event loops where the caller does not choose:
    ``prefs.devices.edff_standalone.synapse_threads``, or where that is 0,
    2 on an idle machine with 2 or more cores and otherwise 1, decided once
    per process (:func:`_automatic_threads`).

    Two threads meet at a barrier in every step: on a machine whose cores
    other jobs keep busy, they wait whenever the system deschedules one of
    them, and are then many times slower than one (docs/speed.md). So the
    automatic choice takes 2 only where the 1-minute load average leaves
    more than 1.5 cores free, and never more than 2.
    """
    chosen = prefs[f"{PREFS}.synapse_threads"]
    return int(chosen) if chosen else _automatic_threads()


@functools.lru_cache(maxsize=1)
def _automatic_threads() -> int:
    """The load-based choice, once per process: a run's own load must not
    change the thread count of the circuits it creates later."""
    cores, free = _cores_and_free()
    return 2 if cores >= 2 and free > 1.5 else 1


def _cores_and_free() -> tuple:
    """(cores, cores the 1-minute load average leaves free)."""
    cores = os.cpu_count() or 1
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):  # not available on this platform
        load = 0.0
    return cores, cores - load


def default_parallel_runs() -> int:
    """Binaries run at once for chunks that do not depend on each other (the
    readouts of :func:`brian_edff.training.evaluate_state`):
    ``prefs.devices.edff_standalone.parallel_runs``, or where that is 0, the
    cores the 1-minute load average leaves free, at least 1, decided once
    per process. Each binary then runs its synaptic loops on one thread.
    """
    chosen = prefs[f"{PREFS}.parallel_runs"]
    return int(chosen) if chosen else _automatic_parallel_runs()


@functools.lru_cache(maxsize=1)
def _automatic_parallel_runs() -> int:
    cores, free = _cores_and_free()
    return max(1, min(cores, int(free + 0.5)))


#: glibc's malloc tunable that backs large allocations with transparent huge
#: pages (``madvise``, glibc >= 2.35; other C libraries ignore it). The
#: weight arrays are megabytes: on 4 KiB pages the on_post decay of ``W1``,
#: which touches one synapse per row (a stride of 12 KB), misses the TLB on
#: nearly every synapse.
HUGE_PAGES_TUNABLE = "glibc.malloc.hugetlb=1"


def huge_pages_tunables() -> str | None:
    """The ``GLIBC_TUNABLES`` value a compiled binary is started with:
    this process's, with :data:`HUGE_PAGES_TUNABLE` added, or as it is
    where it already sets ``glibc.malloc.hugetlb`` or
    ``prefs.devices.edff_standalone.huge_pages`` is False. Memory layout
    only: results do not change."""
    old = os.environ.get("GLIBC_TUNABLES")
    if not prefs[f"{PREFS}.huge_pages"] or "glibc.malloc.hugetlb" in (old or ""):
        return old
    return f"{old}:{HUGE_PAGES_TUNABLE}" if old else HUGE_PAGES_TUNABLE


def min_parallel_synapses() -> int:
    """The split threshold in use (``prefs.devices.edff_standalone.min_parallel_synapses``)."""
    return int(prefs[f"{PREFS}.min_parallel_synapses"])


def vector_width() -> int:
    """The vector width asked for (``prefs.devices.edff_standalone.vector_width``)."""
    return int(prefs[f"{PREFS}.vector_width"])


def synapse_vector_width() -> int | None:
    """The width the row loops are compiled for, or None where the compiler's
    own choice stands: gcc on x86-64 only (the pragma is gcc's)."""
    x86 = platform.machine().lower() in ("x86_64", "amd64")
    compiler = brian2.prefs.codegen.cpp.compiler or ("msvc" if os.name == "nt" else "gcc")
    return vector_width() if x86 and compiler == "gcc" else None


#: Digest of this module's source as imported: the code that decides what the
#: templates are given (thread safety, independent rows, vector width) is
#: part of every build key, so that a process started before an edit of the
#: package never files a build under a key that a newer process would trust.
_SOURCE_DIGEST = hashlib.sha1(pathlib.Path(__file__).read_bytes()).hexdigest()


def templates_digest() -> str:
    """Hash of the device's templates (as on disk, where Brian2 renders them
    from), of this module's source (as imported), the split threshold,
    compiler flags and the ``independent_rows`` preference (part of every
    build cache key)."""
    folder = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
    digest = hashlib.sha1(f"min_parallel_synapses={min_parallel_synapses()}".encode())
    digest.update(_SOURCE_DIGEST.encode())
    width = synapse_vector_width()
    if width is not None:
        digest.update(f"vector_width={width}".encode())
    if not prefs[f"{PREFS}.independent_rows"]:
        digest.update(b"independent_rows=False")
    for name in sorted(os.listdir(folder)):
        with open(os.path.join(folder, name), "rb") as handle:
            digest.update(name.encode() + handle.read())
    return digest.hexdigest()[:16]
