"""Brian2's own example scripts on ``cpp_standalone`` and on brian_edff's
device, side by side: the same results, and the run and build times.

Brian2's examples are not installed with the package; point ``--examples``
at the ``examples/`` folder of a Brian2 source checkout (the release that is
installed). Each script runs unchanged in a process of its own, in a
temporary folder, once per device, except for the device it asks for:

* scripts that already call ``set_device("cpp_standalone", ...)`` (the
  ``standalone/`` folder) get the device's name there;
* the others get ``set_device(<device>)`` after their Brian2 import, which
  turns them into standalone scripts (a script that needs the runtime device,
  e.g. to read values between runs, fails on ``cpp_standalone`` too and is
  reported as such);
* every script gets ``seed(SEED)`` after its device is set, and NumPy's
  generator is seeded before the script starts (Brian2's ``seed`` does not
  seed it on a standalone device), so that both devices draw the same
  random numbers.

Plots go to matplotlib's ``Agg`` backend and are dropped. After the script,
every state variable of every Brian2 object and every NumPy array among its
global names is saved, and the two devices' values are compared for
equality (NaN equal to NaN), where cpp_standalone gives the same values in
its own two runs (first build and rebuild). Times: the run time Brian2 reports for the last
``run`` (``device._last_run_time``) and the wall time of the whole script
(code generation, compilation and run), for a first build in a new folder
and for a second build of the same script in the same folder (what make
reuses).

Run::

    python benchmarks/brian2_examples.py --examples ~/src/brian2/examples
    python benchmarks/brian2_examples.py --examples DIR --only standalone/STDP_standalone.py

A script's own output is kept in ``OUT/<example>/<device>.log`` (``--out``,
default a temporary folder).
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

DEVICES = ("cpp_standalone", "edff_standalone")
#: Brian2's random numbers are seeded once after its import (the examples
#: draw without a seed, which differs from run to run).
SEED = 2026

#: Scripts of Brian2's examples folder run by default: the standalone
#: examples (one run, several runs, OpenMP threads, a build after several
#: runs) and examples of synapses, plasticity, custom events, gap junctions
#: and recurrent networks that need nothing of the runtime device.
EXAMPLES = (
    "standalone/simple_case.py",
    "standalone/simple_case_build.py",
    "standalone/STDP_standalone.py",
    "standalone/cuba_openmp.py",
    "standalone/standalone_multiplerun.py",
    "CUBA.py",
    "COBAHH.py",
    "adaptive_threshold.py",
    "reliability.py",
    "phase_locking.py",
    "advanced/custom_events.py",
    "synapses/STDP.py",
    "synapses/jeffress.py",
    "synapses/licklider.py",
    "synapses/nonlinear.py",
    "synapses/gapjunctions.py",
    "synapses/spatial_connections.py",
    "synapses/state_variables.py",
    "synapses/synapses.py",
    "synapses/spike_based_homeostasis.py",
)

_SET_DEVICE = re.compile(r"""set_device\(\s*(['"])cpp_standalone\1""")
_BRIAN_IMPORT = re.compile(r"^(?:from brian2(?:\.[\w.]+)? import .+|import brian2\b.*)$",
                           re.MULTILINE)
#: Names the inserted lines use, imported under a name of their own.
_MODULE = "_brian2_for_examples"


#: Runs the example's code, then saves what it computed. Formatted with the
#: script's path, the folder for results and the device's name.
RUNNER = r'''
import sys, time, json
import numpy as np
import matplotlib
matplotlib.use("Agg")
import brian_edff  # registers edff_standalone
import brian2

np.random.seed({seed})  # what the script draws with NumPy (Brian2's seed() does not, on standalone)
source = open({script!r}).read()
namespace = {{"__name__": "__main__", "__file__": {script!r}}}
start = time.perf_counter()
exec(compile(source, {script!r}, "exec"), namespace)
wall = time.perf_counter() - start
values = {{}}
for name, obj in list(namespace.items()):
    if getattr(brian2, name, None) is obj:  # Brian2's own names (units, constants)
        continue
    if isinstance(obj, np.ndarray) and obj.dtype.kind in "biuf":
        values[name] = obj
    elif isinstance(obj, brian2.Quantity):
        values[name] = np.asarray(obj)
    elif isinstance(obj, brian2.VariableOwner):
        try:
            states = obj.get_states(units=False, read_only_variables=True)
        except Exception:
            continue
        for var, value in states.items():
            array = np.asarray(value)
            if array.dtype.kind in "biuf":
                values[name + "." + var] = array
np.savez({out!r} + "/values.npz", **values)
device = brian2.get_device()
json.dump({{"wall_s": wall, "run_s": getattr(device, "_last_run_time", None),
           "device": type(device).__name__}}, open({out!r} + "/times.json", "w"))
'''


def _end_of_statement(source: str, match) -> int:
    """Where the import statement of ``match`` ends (after a parenthesised list)."""
    line = match.group(0)
    if "(" in line and ")" not in line:
        return source.index("\n", source.index(")", match.end()))
    return match.end()


def prepare(source: str, device: str) -> str | None:
    """The script's source with ``device`` as its device and Brian2's
    generator seeded, or None where it imports no Brian2 at module level."""
    imports = list(_BRIAN_IMPORT.finditer(source))
    if not imports:
        return None
    # Random numbers from a fixed seed (after the device is set, so that the
    # standalone project seeds its generator), so that devices can be compared.
    seed = f"import brian2 as {_MODULE}; {_MODULE}.seed({SEED})"
    call = _SET_DEVICE.search(source)
    if call is None:
        end = _end_of_statement(source, imports[-1])
        return (source[:end] + f"\nimport brian2 as {_MODULE}; "
                f"{_MODULE}.set_device({device!r}); {_MODULE}.seed({SEED})" + source[end:])
    line_start = source.rfind("\n", 0, call.start()) + 1
    indent = re.match(r"[ \t]*", source[line_start:]).group(0)
    end_of_line = source.index("\n", call.end())
    source = source[:end_of_line] + f"\n{indent}{seed}" + source[end_of_line:]
    return _SET_DEVICE.sub(lambda m: f"set_device({m.group(1)}{device}{m.group(1)}", source)


def run_example(path: str, device: str, folder: str, timeout: float) -> dict:
    """Run one example on one device in ``folder``: a first build and a
    rebuild; returns times and where the values are."""
    os.makedirs(folder, exist_ok=True)
    source = prepare(open(path).read(), device)
    if source is None:
        return {"status": "skipped: no Brian2 import found"}
    script = os.path.join(folder, os.path.basename(path))
    with open(script, "w") as handle:
        handle.write(source)
    result = {}
    for attempt in ("first", "rebuild"):
        out = os.path.join(folder, attempt)
        os.makedirs(out, exist_ok=True)
        runner = RUNNER.format(script=script, out=out, seed=SEED)
        with open(os.path.join(folder, f"{attempt}.log"), "w") as log:
            try:
                done = subprocess.run([sys.executable, "-c", runner], cwd=folder, stdout=log,
                                      stderr=subprocess.STDOUT, timeout=timeout,
                                      env=dict(os.environ, MPLBACKEND="Agg"))
            except subprocess.TimeoutExpired:
                result["status"] = f"timed out after {timeout:.0f} s"
                return result
        if done.returncode != 0:
            with open(os.path.join(folder, f"{attempt}.log")) as log:
                last = [line for line in log.read().strip().splitlines() if line.strip()]
            result["status"] = "failed: " + (last[-1] if last else f"exit {done.returncode}")
            return result
        with open(os.path.join(out, "times.json")) as handle:
            result[attempt] = json.load(handle)
    result["status"] = "ok"
    result["values"] = {attempt: os.path.join(folder, attempt, "values.npz")
                        for attempt in ("first", "rebuild")}
    return result


def same_values(first: str, second: str) -> tuple[bool, int, list]:
    """Whether two saved value files hold the same names and equal arrays;
    the number of values compared and the names that differ."""
    a, b = np.load(first), np.load(second)
    differ = sorted(set(a.files) ^ set(b.files))
    for name in set(a.files) & set(b.files):
        if a[name].shape != b[name].shape or not np.array_equal(a[name], b[name],
                                                                 equal_nan=True):
            differ.append(name)
    return not differ, len(set(a.files) & set(b.files)), differ


def compare(cpp: dict, edff: dict) -> tuple[str, bool]:
    """The table's verdict on one example's two runs, and whether it is a
    difference between the devices."""
    if cpp["status"] != "ok" or edff["status"] != "ok":
        both_failed = cpp["status"] != "ok" and edff["status"] != "ok"
        return ("", False) if both_failed else ("no", True)
    reproducible, _, _ = same_values(cpp["values"]["first"], cpp["values"]["rebuild"])
    if not reproducible:
        # Nothing to compare against: the script differs from itself.
        return "cpp_standalone differs between its own two runs", False
    equal, n_values, differ = same_values(cpp["values"]["first"], edff["values"]["first"])
    if equal:
        return f"yes ({n_values} values)", False
    return f"no: {', '.join(differ[:5])}", True


def seconds(result: dict, attempt: str, key: str) -> str:
    value = result.get(attempt, {}).get(key)
    return "" if value is None else f"{value:.2f}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", required=True,
                        help="the examples/ folder of a Brian2 source checkout")
    parser.add_argument("--only", nargs="+", default=None,
                        help="example paths relative to --examples (default: EXAMPLES)")
    parser.add_argument("--out", default=None, help="folder for the scripts' output")
    parser.add_argument("--timeout", type=float, default=900.0,
                        help="seconds per script and device")
    args = parser.parse_args(argv)
    if not os.path.isdir(args.examples):
        parser.error(f"--examples: no such folder: {args.examples}")
    out = os.path.abspath(args.out or tempfile.mkdtemp(prefix="brian2_examples_"))
    rows, all_equal = [], True
    for example in args.only or EXAMPLES:
        path = os.path.abspath(os.path.join(args.examples, example))
        if not os.path.isfile(path):
            print(f"# {example}: not found under {args.examples}", flush=True)
            continue
        results = {}
        for device in DEVICES:
            folder = os.path.join(out, example.replace("/", "_").removesuffix(".py"), device)
            start = time.perf_counter()
            results[device] = run_example(path, device, folder, args.timeout)
            print(f"#   {example} on {device}: {results[device]['status']} "
                  f"({time.perf_counter() - start:.0f} s)", flush=True)
        cpp, edff = results["cpp_standalone"], results["edff_standalone"]
        verdict, differs = compare(cpp, edff)
        all_equal &= not differs
        rows.append((example, cpp["status"], edff["status"], verdict, cpp, edff))
    print("\n| example | cpp_standalone | edff_standalone | equal | run s, cpp | run s, edff "
          "| script s, cpp | script s, edff | rebuild s, cpp | rebuild s, edff |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for example, cpp_status, edff_status, equal, cpp, edff in rows:
        print(f"| {example} | {cpp_status} | {edff_status} | {equal} "
              f"| {seconds(cpp, 'first', 'run_s')} | {seconds(edff, 'first', 'run_s')} "
              f"| {seconds(cpp, 'first', 'wall_s')} | {seconds(edff, 'first', 'wall_s')} "
              f"| {seconds(cpp, 'rebuild', 'wall_s')} | {seconds(edff, 'rebuild', 'wall_s')} |")
    print(f"\nscripts' output: {out}")
    return 0 if all_equal else 1


if __name__ == "__main__":
    sys.exit(main())
