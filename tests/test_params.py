"""Parameter sets: validation names the field; JSON round trip keeps units."""

import json
from pathlib import Path

import pytest
from brian2 import ms

from brian_edff.params import Params, ParamsError, fast, load_params, paper, reference, tuned


def test_reference_constants():
    p = reference().validate(n_input=784)
    assert (p.n_hidden1, p.n_hidden2, p.T) == (3000, 600, 50)
    assert p.dt == 3 * ms and p.tau_m == 100 * ms and p.tau_tr == 13 * ms
    assert (p.theta0, p.theta_min, p.rho_b, p.R_m, p.R_inh) == (0.055, 0.025, 0.001, 0.1,
                                                                0.01)


@pytest.mark.parametrize("factory", [reference, fast, tuned, paper])
def test_round_trip(factory):
    p = factory()
    again = Params.from_dict(json.loads(json.dumps(p.to_dict())))
    assert again == p


@pytest.mark.parametrize("change, field", [
    ({"tau_m": "0 ms"}, "tau_m"), ({"tau_m": -5}, "tau_m"), ({"tau_tr": "2 ms"}, "dt"),
    ({"dt": "200 ms"}, "dt"), ({"T": 0}, "T"), ({"n_hidden1": -3}, "n_hidden1"),
    ({"eta": -1.0}, "eta"), ({"lateral_sign": "up"}, "lateral_sign"),
    ({"theta0": 0.0}, "theta0"), ({"chunk_windows": 0}, "chunk_windows"),
    ({"csdp_step": "adam"}, "csdp_step"), ({"tau_rms": "0 ms"}, "tau_rms"),
    ({"negatives": "hard"}, "negatives"), ({"w_init": 0.0}, "w_init"),
    ({"state_dtype": "float16"}, "state_dtype"),
    ({"eta_head_decay": -0.5}, "eta_head_decay"),
    ({"eta_decay": 0.0}, "eta_decay"), ({"rho_h": -1e-6}, "rho_h"),
    ({"rho_h": float("nan")}, "rho_h"), ({"input_gain": 0.0}, "input_gain"),
])
def test_invalid_values_name_the_field(change, field):
    with pytest.raises(ParamsError, match=field):
        fast().replace(**change).validate()


def test_unknown_key_and_wrong_type():
    with pytest.raises(ParamsError, match="tau_membrane: unknown parameter"):
        Params.from_dict({"tau_membrane": 3})
    with pytest.raises(ParamsError, match="n_hidden1: must be an integer"):
        Params.from_dict({"n_hidden1": "many"})
    with pytest.raises(ParamsError, match="dt: cannot read"):
        Params.from_dict({"dt": "three ms"})


def test_size_must_match_data():
    with pytest.raises(ParamsError, match="n_input: parameters say 784"):
        fast().replace(n_input=784).validate(n_input=64)


def test_json_file(tmp_path):
    path = tmp_path / "p.json"
    path.write_text(json.dumps({"base": "fast", "n_hidden1": 99, "tau_m": "50 ms"}))
    p = load_params(str(path))
    assert p.n_hidden1 == 99 and p.tau_m == 50 * ms and p.T == fast().T
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ParamsError, match="bad.json: malformed JSON"):
        load_params(str(bad))
    with pytest.raises(ParamsError, match="unknown parameter set 'fastest'"):
        load_params("fastest")
    with pytest.raises(ParamsError, match="missing.json: parameter file not found"):
        load_params(str(tmp_path / "missing.json"))


def test_json_file_on_a_base_file(tmp_path):
    (tmp_path / "sets").mkdir()
    (tmp_path / "sets" / "base.json").write_text(json.dumps(
        {"base": "fast", "n_hidden1": 77, "tau_m": "40 ms"}))
    lever = tmp_path / "sets" / "lever.json"
    lever.write_text(json.dumps({"base": "base.json", "tau_m": "60 ms"}))
    p = load_params(str(lever))
    assert p.n_hidden1 == 77 and p.tau_m == 60 * ms and p.T == fast().T
    twice = tmp_path / "twice.json"
    twice.write_text(json.dumps({"base": "sets/lever.json", "T": 9}))
    assert load_params(str(twice)) == p.replace(T=9)


def test_base_file_errors_name_the_file(tmp_path):
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"base": "b.json"}))
    b.write_text(json.dumps({"base": "a.json"}))
    with pytest.raises(ParamsError, match="base files form a loop: .*a.json -> .*b.json"):
        load_params(str(a))
    a.write_text(json.dumps({"base": "gone.json"}))
    with pytest.raises(ParamsError, match="a.json: base: .*gone.json: parameter file not "
                                          "found"):
        load_params(str(a))
    a.write_text(json.dumps({"base": "fastest"}))
    with pytest.raises(ParamsError, match="a.json: base: unknown parameter set 'fastest'"):
        load_params(str(a))
    a.write_text(json.dumps({"base": 3}))
    with pytest.raises(ParamsError, match="a.json: base: must be a set name"):
        load_params(str(a))
    b.write_text(json.dumps({"base": "fast", "tau_mem": "1 ms"}))
    a.write_text(json.dumps({"base": "b.json"}))
    with pytest.raises(ParamsError, match="a.json: base: .*b.json: tau_mem: unknown"):
        load_params(str(a))


def test_named_sets_are_single_precision():
    """float32 is every named set's default; records without the field stay float64."""
    from brian_edff.params import PARAMETER_SETS

    assert all(factory().state_dtype == "float32" for factory in PARAMETER_SETS.values())
    old = {k: v for k, v in reference().to_dict().items() if k != "state_dtype"}
    assert Params.from_record(old).state_dtype == "float64"
    assert Params.from_record(fast().to_dict()).state_dtype == "float32"


def test_paper_is_the_papers_circuit():
    p, ref = paper().validate(n_input=784), reference()
    assert (p.n_hidden1, p.n_hidden2, p.T, p.dt, p.tau_m) == (
        ref.n_hidden1, ref.n_hidden2, ref.T, ref.dt, ref.tau_m)
    assert p.csdp_step == "rmsprop_cell" and load_params("paper") == p
    per_synapse = load_params(str(Path(__file__).resolve().parents[1] / "protocols"
                                  / "paper_rmsprop.json"))
    assert per_synapse == p.replace(csdp_step="rmsprop")
