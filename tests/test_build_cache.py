"""The build cache: a damaged build is rebuilt, one compile serves processes
that need it at once (:class:`brian_edff.builds.StandaloneBuild`)."""

import os
import subprocess
import sys
import textwrap

import pytest

from brian_edff.builds import (
    BINARY,
    BUILD_MARKER,
    cached_build_problem,
    write_build_marker,
)

pytestmark = pytest.mark.standalone

#: Builds (or reuses) a tiny network in the directory given as argument and
#: prints whether this process compiled it, then runs it once.
TINY_BUILD = textwrap.dedent("""
    import sys
    from brian2 import NeuronGroup, Network, ms
    from brian_edff.builds import StandaloneBuild

    def network():
        group = NeuronGroup(5, "dv/dt = (1.5 - v) / (10*ms) : 1", threshold="v > 1",
                            reset="v = 0", method="euler", name="cells")
        return {"net": Network(group), "cells": group}

    build = StandaloneBuild("standalone", sys.argv[1], threads=1)
    objs = build.build(network, 20 * ms, key="tiny")
    build.run({})
    print("compiled", build.compiled, "v", float(objs["cells"].v[0]))
    build.close()
""")


def tiny_build(directory, **kwargs):
    return subprocess.Popen([sys.executable, "-c", TINY_BUILD, str(directory)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            **kwargs)


def finish(process, timeout=900):
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err[-2000:]
    return out, err


def test_cached_build_problems(tmp_path):
    assert "never compiled" in cached_build_problem(str(tmp_path))
    (tmp_path / BINARY).write_bytes(b"\x7fELF" + bytes(100))
    write_build_marker(str(tmp_path), "key")
    assert cached_build_problem(str(tmp_path)) is None
    (tmp_path / BINARY).write_bytes(b"\x7fELF" + bytes(50))     # cut short
    assert "54 bytes, 104 when compiled" in cached_build_problem(str(tmp_path))
    (tmp_path / BINARY).write_bytes(b"\x7fELF" + bytes(99) + b"x")  # same size, changed
    assert "changed" in cached_build_problem(str(tmp_path))
    os.remove(tmp_path / BINARY)
    assert "lost its binary" in cached_build_problem(str(tmp_path))
    # A marker of an older version (the key alone) gets the record of its binary.
    (tmp_path / BINARY).write_bytes(b"\x7fELF" + bytes(10))
    (tmp_path / BUILD_MARKER).write_text("key\n")
    assert cached_build_problem(str(tmp_path)) is None
    assert len((tmp_path / BUILD_MARKER).read_text().splitlines()) == 2


def test_two_processes_share_one_compile_and_a_damaged_build_is_rebuilt(tmp_path):
    directory = tmp_path / "build"
    first, second = tiny_build(directory), tiny_build(directory)
    outputs = [finish(first)[0], finish(second)[0]]
    assert sorted(out.split()[1] for out in outputs) == ["False", "True"], outputs
    assert outputs[0].split()[3] == outputs[1].split()[3]
    # A truncated binary: rebuilt, with one line saying so.
    binary = directory / BINARY
    binary.write_bytes(binary.read_bytes()[:1000])
    out, err = finish(tiny_build(directory))
    assert out.split()[1] == "True" and out.split()[3] == outputs[0].split()[3]
    lines = [line for line in err.splitlines() if "brian_edff" in line]
    assert len(lines) == 1 and "rebuilding" in lines[0] and str(directory) in lines[0]
    # An interrupted compilation (no marker) is compiled again, silently.
    os.remove(directory / BUILD_MARKER)
    out, err = finish(tiny_build(directory))
    assert out.split()[1] == "True" and "rebuilding" not in err
    out, _ = finish(tiny_build(directory))
    assert out.split()[1] == "False"
