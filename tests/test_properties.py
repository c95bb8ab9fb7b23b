"""Property-based tests (hypothesis): loaders and validation fail only with clear errors."""

import struct

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from brian_edff.datasets import DataError, read_idx, validate_images
from brian_edff.params import Params, ParamsError, fast

FIELDS = list(fast().to_dict())
VALUES = st.one_of(st.none(), st.booleans(), st.integers(-10**6, 10**6),
                   st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=12),
                   st.sampled_from(["3 ms", "0 ms", "-1 ms", "100 ms", "1 s", "2 us"]))


@settings(max_examples=300, deadline=None, derandomize=True)
@given(st.dictionaries(st.sampled_from(FIELDS + ["bogus"]), VALUES, max_size=4))
def test_params_either_valid_or_named_error(changes):
    try:
        params = Params.from_dict(changes, base=fast()).validate(n_input=64)
    except ParamsError as err:
        assert str(err).split(":")[0] in FIELDS + ["bogus", "dt", "theta_jitter",
                                                   "parameters must be a JSON object"]
        return
    again = Params.from_dict(params.to_dict())
    assert again == params


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=64))
def test_idx_reader_never_crashes(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("idx") / "x-idx1-ubyte"
    path.write_bytes(data)
    try:
        array = read_idx(str(path))
    except DataError as err:
        assert str(path) in str(err)
        return
    assert array.size * array.dtype.itemsize == len(data) - 4 - 4 * array.ndim


@settings(max_examples=100, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.integers(0, 255), min_size=1, max_size=30), st.integers(0, 5))
def test_idx_round_trip_and_truncation(tmp_path_factory, values, cut):
    header = bytes([0, 0, 8, 1]) + struct.pack(">I", len(values))
    path = tmp_path_factory.mktemp("idx") / "labels-idx1-ubyte"
    payload = header + bytes(values)
    path.write_bytes(payload[:len(payload) - cut] if cut else payload)
    if cut:
        try:
            read_idx(str(path))
        except DataError as err:
            assert "truncated" in str(err)
        else:
            raise AssertionError("a truncated file was accepted")
    else:
        np.testing.assert_array_equal(read_idx(str(path)), values)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=4,
                max_size=4))
def test_validate_images_accepts_exactly_unit_interval(pixels):
    x = np.array([pixels], dtype=np.float64)
    ok = bool(np.isfinite(x).all() and x.min() >= 0 and x.max() <= 1)
    try:
        validate_images(x, np.array([0]), "src", n_labels=10)
    except DataError as err:
        assert not ok and str(err).startswith("src: ")
    else:
        assert ok
