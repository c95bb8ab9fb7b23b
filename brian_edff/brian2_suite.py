"""Brian2's own test suite on brian_edff's device, as brian2cuda validates its own.

Brian2 ships its tests; those marked standalone-compatible run on any
standalone device (``brian2.test(..., test_standalone=<device name>)``).
:func:`test` runs them on ``edff_standalone``: every test must pass, or be
skipped for the same reason as on ``cpp_standalone``.

Run every standalone-compatible test (single and multiple ``run``
statements; each compiles a small project, about an hour on 2 cores)::

    python -m brian_edff.brian2_suite

or a selection (a pytest ``-k`` expression), e.g. the tests that exercise
every template the device replaces (:data:`TEMPLATE_TESTS`, what the default
test suite of the package runs, a few minutes)::

    python -m brian_edff.brian2_suite --templates
    python -m brian_edff.brian2_suite -k "summed_variable or custom_event"
"""

from __future__ import annotations

import argparse
import sys

#: Brian2 tests that exercise each template the device replaces: the
#: synaptic event loop and its pathway class (transmission on pre and post
#: events, a custom event, delays that keep the spike queue, synapses onto
#: synapses that keep Brian2's templates), summed variables, thresholders
#: (threshold and reset) and state updaters reading shared values (a linked
#: scalar variable). Each compiles a small project.
TEMPLATE_TESTS = (
    "test_transmission_simple", "test_transmission_custom_event",
    "test_transmission_one_to_all_heterogeneous_delays", "test_pre_post_simple",
    "test_synapses_to_synapses_connection_array", "test_summed_variable_differing_group_size",
    "test_threshold_reset", "test_linked_variable_scalar",
)


def template_selection() -> str:
    """The pytest ``-k`` expression selecting :data:`TEMPLATE_TESTS`."""
    return " or ".join(TEMPLATE_TESTS)


def test(selection: str | None = None, long_tests: bool = False,
         extra_args: list | None = None) -> bool:
    """Run Brian2's standalone-compatible tests on ``edff_standalone``.

    Parameters
    ----------
    selection : str, optional
        A pytest ``-k`` expression (default: every test).
    long_tests : bool
        Include the tests Brian2 marks as long.
    extra_args : list of str, optional
        More pytest arguments.

    Returns
    -------
    bool
        Whether every selected test passed (or was skipped).
    """
    import brian2

    from .device import DEVICE_NAME  # registers the device

    args = ["-p", "no:cacheprovider"] + list(extra_args or [])
    if selection:
        args += ["-k", selection]
    return brian2.test([], test_codegen_independent=False, test_standalone=DEVICE_NAME,
                       test_in_parallel=[], long_tests=long_tests, additional_args=args)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("-k", dest="selection", help="pytest -k expression")
    group.add_argument("--templates", action="store_true",
                       help="only the tests that exercise the device's templates")
    parser.add_argument("--long", action="store_true", help="include Brian2's long tests")
    args = parser.parse_args(argv)
    selection = template_selection() if args.templates else args.selection
    return 0 if test(selection, long_tests=args.long) else 1


if __name__ == "__main__":
    sys.exit(main())
