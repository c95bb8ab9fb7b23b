"""Compiled projects of a network: built once, run again and again.

The circuit runs chunk after chunk of windows on one compiled project per
network shape and model (:class:`StandaloneBuild`): the project is built
once into a cache folder shared by processes (a marker file records a
finished compilation, a lock lets one process compile while the others
wait), and every chunk runs its binary with new ``run_args`` (the chunk's
stimulus, the current weights). Chunks that do not depend on each other (the
readouts) run several binaries at once, each writing a results folder of its
own (:meth:`StandaloneBuild.run_many`). The device itself is
:mod:`brian_edff.device`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import time

import brian2
import numpy as np
from brian2 import TimedArray

from .device import DEVICE_NAME, huge_pages_tunables

__all__ = ["COMPILED_DEVICES", "StandaloneBuild", "BUILD_MARKER", "BINARY",
           "write_build_marker", "cached_build_problem"]

#: Compiled devices the circuit can run on: ours (``"standalone"``) and
#: Brian2's plain ``cpp_standalone`` (the baseline it is held equal to).
COMPILED_DEVICES = {"standalone": DEVICE_NAME, "cpp_standalone": "cpp_standalone"}


#: File in a compiled project: written once its compilation finished, with
#: the build key and the size and SHA-256 digest of the binary.
BUILD_MARKER = "brian_edff_build_complete"
#: The binary of a standalone project.
BINARY = "main"


def _digest(path: str) -> str:
    sha = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            sha.update(block)
    return sha.hexdigest()


def write_build_marker(directory: str, key: str) -> None:
    """Mark ``directory``'s compilation finished (see :func:`cached_build_problem`)."""
    binary = os.path.join(directory, BINARY)
    text = f"{key}\n{os.path.getsize(binary)} {_digest(binary)}\n"
    tmp = os.path.join(directory, BUILD_MARKER + ".tmp")
    with open(tmp, "w") as handle:
        handle.write(text)
    os.replace(tmp, os.path.join(directory, BUILD_MARKER))


def cached_build_problem(directory: str) -> str | None:
    """Why the compiled project in ``directory`` cannot be reused, or ``None``.

    Not compiled (no marker: never built, or its compilation was
    interrupted), a missing binary, or one whose size or digest differs
    from the record (cut short, overwritten). A marker written before the
    record existed (the key alone) is given the record of the binary it
    finds.
    """
    marker = os.path.join(directory, BUILD_MARKER)
    if not os.path.exists(marker):
        return "was never compiled to the end"
    with open(marker) as handle:
        lines = handle.read().splitlines()
    record = lines[1].split() if len(lines) > 1 else []
    binary = os.path.join(directory, BINARY)
    if not os.path.exists(binary):
        return f"has lost its binary ({BINARY})"
    if not record:
        write_build_marker(directory, lines[0] if lines else "")
        return None
    if len(record) != 2 or not record[0].isdigit():
        return "has a damaged record of its binary"
    if os.path.getsize(binary) != int(record[0]):
        return f"has a binary of {os.path.getsize(binary)} bytes, {record[0]} when compiled"
    if _digest(binary) != record[1]:
        return "has a binary that changed since it was compiled"
    return None


class StandaloneBuild:
    """One compiled project of a network, run again and again with new inputs.

    The network is built once per shape and model (``directory`` is a cache
    keyed by the caller), compiled once (a marker file, under a lock, so that
    several processes can share the build), then run with
    ``device.run(run_args=...)`` per chunk. Every instance reads its results
    from a folder of its own.

    Parameters
    ----------
    device_name : {"standalone", "cpp_standalone"}
        ``"standalone"`` is :class:`EdffStandaloneDevice`, ``"cpp_standalone"``
        Brian2's own device (the baseline).
    directory : str
        Project folder (the build cache entry).
    threads : int
        ``"standalone"``: threads of the synaptic event loops (>= 1);
        ``"cpp_standalone"``: Brian2's OpenMP threads (0: off).
    profile : bool
        Compile Brian2's per-code-object timers in (:meth:`profiling_info`).
    """

    def __init__(self, device_name: str, directory: str, threads: int, profile: bool = False):
        if device_name not in COMPILED_DEVICES:
            raise ValueError(f"device: unknown compiled device {device_name!r}; use one of "
                             f"{tuple(COMPILED_DEVICES)}")
        self.device_name = device_name
        self.directory = directory
        self.threads = threads
        self.profile = bool(profile)
        self.results_name = f"results_{os.getpid()}_{id(self):x}"
        self.build_s = 0.0
        self.compiled = False
        self._active = False
        self._jobs = []

    def build(self, make_network, duration, finalize=None, key: str = ""):
        """Create the network with ``make_network()``, compile it (once) and keep it.

        Parameters
        ----------
        make_network : callable
            Returns the Brian2 objects; must include the Network as ``"net"``.
        duration : Quantity
            Simulated time of every run.
        finalize : callable, optional
            Called with the objects after ``run`` is recorded (e.g. code that
            runs after every chunk).
        key : str
            Written into the marker file of a finished compilation.
        """
        from brian2 import device, set_device
        from brian2.utils.filelock import FileLock

        start = time.perf_counter()
        os.makedirs(os.path.dirname(self.directory) or ".", exist_ok=True)
        brian2.prefs.devices.cpp_standalone.openmp_threads = (
            self.threads if self.device_name == "cpp_standalone" else 0)
        # Brian2 runs an unbounded ``make -j``: a few builds at once (a sweep,
        # the tests) then start hundreds of compilers and thrash the machine.
        brian2.prefs.devices.cpp_standalone.extra_make_args_unix = [
            f"-j{os.cpu_count() or 1}"]
        set_device(COMPILED_DEVICES[self.device_name], directory=self.directory,
                   build_on_run=False, with_output=False)
        self._active = True
        # The compiled generator always starts from seed 0.
        brian2.seed(0)
        objs = make_network()
        objs["net"].run(duration, profile=self.profile)
        if finalize is not None:
            finalize(objs)
        # Brian2 writes the clock initialisations of main.cpp in a different
        # order in every process; recompiling a finished build would relink the
        # binary under other processes' feet. Compile once, marked by a file.
        # The marker records the binary's size and digest: a cached build
        # whose binary is missing or was cut short is compiled again (after
        # ``make clean``, as is a build whose compilation never finished: a
        # compiler killed mid-file may leave an object that looks current).
        # Processes that need one build at once wait at the lock; the first
        # compiles, the others find it done.
        marker = os.path.join(self.directory, BUILD_MARKER)
        with FileLock(self.directory + ".lock"):
            problem = cached_build_problem(self.directory)
            if problem is not None and os.path.exists(marker):
                print(f"brian_edff: cached build {self.directory} {problem}; rebuilding",
                      file=sys.stderr, flush=True)
                os.remove(marker)
            compiled = problem is None
            device.build(directory=self.directory, compile=not compiled, run=False,
                         with_output=False, clean=not compiled)
            if not compiled:
                write_build_marker(self.directory, key)
                header = os.path.join(self.directory, "objects.h.gch")
                if os.path.exists(header):  # needed only while compiling
                    os.remove(header)
        self.compiled = not compiled
        self.build_s = time.perf_counter() - start
        return objs

    def run(self, run_args: dict, threads: int | None = None) -> float:
        """Run the compiled binary once with ``run_args``; seconds it took.

        ``threads``: threads of the synaptic event loops in this run (default
        the build's; ``"standalone"`` only). The results can be read at once
        (see :meth:`run_many`).
        """
        seconds = self.run_many([run_args], threads)
        self.select(0)
        return seconds

    def run_many(self, run_args_list: list, threads: int | None = None) -> float:
        """Run the binary once per entry of ``run_args_list``, all at once; wall seconds.

        Each run has its own results folder; :meth:`select` then points
        Brian2's device at one of them, so that the network's variables read
        that run's results. Every run starts the generator from the same
        seed, as a single run does, so a run's results do not depend on the
        others. Arrays equal in several runs (the same object) are written to
        one file. The binaries run with :func:`huge_pages_tunables` and
        ``$BRIAN_EDFF_SYNAPSE_THREADS`` set to ``threads``.

        Raises
        ------
        RuntimeError
            If a run fails; the message names the project folder and ends with
            the run's output.
        """
        threads = self.threads if threads is None else int(threads)
        if threads < 1 and self.device_name == "standalone":
            raise ValueError(f"threads: must be an integer >= 1, got {threads!r}")
        written, files, commands = {}, [], []
        try:
            for job, run_args in enumerate(run_args_list):
                strings = self._write_run_args(run_args, job, written, files)
                results = os.path.join(self.directory, self._results_name(job), "")
                os.makedirs(results, exist_ok=True)
                commands.append((results, ["--results_dir", results] + strings))
            environment = self._run_environment(threads)
            start = time.perf_counter()
            running = []
            for results, arguments in commands:
                output = open(os.path.join(results, "stdout.txt"), "w")
                running.append((results, output, subprocess.Popen(
                    self._binary_command() + arguments, cwd=self.directory,
                    stdout=output, stderr=subprocess.STDOUT, env=environment)))
            failed = []
            for results, output, process in running:
                if process.wait() != 0:
                    failed.append(results)
                output.close()
            seconds = time.perf_counter() - start
        finally:
            for path in files:
                if os.path.exists(path):
                    os.remove(path)
        if failed:
            with open(os.path.join(failed[0], "stdout.txt")) as handle:
                tail = handle.read()[-2000:]
            raise RuntimeError(f"Project run failed (project directory: {self.directory}); "
                               f"its output:\n{tail}")
        self._jobs = [(results, list(run_args)) for (results, _), run_args
                      in zip(commands, run_args_list)]
        return seconds

    def select(self, job: int) -> None:
        """Point Brian2's device at the results of run ``job`` of the last
        :meth:`run_many`, as ``device.run`` leaves it after a run."""
        from brian2 import get_device

        device = get_device()  # the device itself: the proxy would keep attributes it is given
        results, keys = self._jobs[job]
        device.results_dir = results
        device.has_been_run = True
        stale = {key.variable if not isinstance(key, TimedArray) else None for key in keys}
        for var in list(device.array_cache):
            if var in stale:
                device.array_cache[var] = None
        for clock in device.clocks:
            device.array_cache[clock.variables["t"]] = None
        # Brian2 compares with 1e50, which overflows to inf for a float32
        # state (a warning from NumPy on every check; the test stays right).
        with np.errstate(over="ignore"):
            self._check_states(device)

    @staticmethod
    def _check_states(device) -> None:
        """Brian2's check for NaN and huge values of every group, as after device.run."""
        from brian2.groups.group import Group

        checked = set()
        for var in device.arrays:
            try:
                owner = var.owner
                if isinstance(owner, Group) and owner.name not in checked:
                    checked.add(owner.name)
                    owner._check_for_invalid_states()  # warns on NaN, as device.run
            except ReferenceError:
                pass

    def _results_name(self, job: int) -> str:
        return self.results_name if job == 0 else f"{self.results_name}_{job}"

    def _binary_command(self) -> list:
        """The command that starts the binary (Brian2's ``run_cmd_unix`` preference)."""
        if os.name == "nt":
            return ["main"]
        command = brian2.prefs.devices.cpp_standalone.run_cmd_unix
        return [command] if isinstance(command, str) else list(command)

    def _run_environment(self, threads: int) -> dict:
        """This process's environment with Brian2's run variables, huge pages
        and the synaptic threads."""
        from brian2 import device

        environment = dict(os.environ)
        tunables = huge_pages_tunables()
        if tunables:
            environment["GLIBC_TUNABLES"] = tunables
        environment.update(brian2.prefs.devices.cpp_standalone.run_environment_variables)
        environment.update(device.run_environment_variables)
        environment["BRIAN_EDFF_SYNAPSE_THREADS"] = str(max(1, threads))
        return environment

    def _write_run_args(self, run_args: dict, job: int, written: dict, files: list) -> list:
        """Command-line arguments for one run; arrays go to files of our own.

        Brian2 names run_args files by their content and shares them between
        processes; we write uniquely named files instead and delete them after
        the runs, so that concurrent runs of one build never remove each
        other's inputs. ``written`` maps ``id`` of an array already written in
        this batch to its file, so that the runs share it.
        """
        folder = os.path.join(self.directory, "static_arrays")
        strings = []
        for key, value in run_args.items():
            if isinstance(key, TimedArray):
                name, dtype, scalar = f"{key.name}.values", key.values.dtype, False
            else:
                name, dtype = f"{key.group_name}.{key.name}", key.dtype
                scalar = key.variable.scalar
            if (name, id(value)) in written:
                strings.append(f"{name}={written[(name, id(value))]}")
                continue
            array = np.asarray(value, dtype=dtype)
            if scalar or array.size == 1:
                strings.append(f"{name}={array.item()!r}")
                continue
            path = os.path.join(folder, f"run_{self._results_name(job)}_{name}.dat")
            # A Python-level write: Ctrl-C during it stays a KeyboardInterrupt
            # (ndarray.tofile turns it into a SystemError).
            with open(path, "wb") as handle:
                handle.write(array.tobytes())
            files.append(path)
            relative = os.path.join("static_arrays", os.path.basename(path))
            written[(name, id(value))] = relative
            strings.append(f"{name}={relative}")
        return strings

    def close(self) -> None:
        """Delete this instance's results and release the device."""
        if not self._active:
            return
        from brian2 import device, set_device

        for job in range(max(1, len(self._jobs))):
            shutil.rmtree(os.path.join(self.directory, self._results_name(job)),
                          ignore_errors=True)
        device.reinit()
        device.activate()
        set_device("runtime")
        self._active = False

    def profiling_info(self) -> list:
        """``[(code object, seconds), ...]`` of the last run, longest first."""
        if not self.profile:
            raise ValueError("profiling_info: build with profile=True")
        path = os.path.join(self.directory, self.results_name, "profiling_info.txt")
        rows = []
        with open(path) as handle:
            for line in handle:
                name, seconds = line.split()
                rows.append((name, float(seconds)))
        return sorted(rows, key=lambda row: row[1], reverse=True)

    def delete(self) -> None:
        """Remove the compiled project from disk."""
        if os.path.isdir(self.directory):
            shutil.rmtree(self.directory, ignore_errors=True)
