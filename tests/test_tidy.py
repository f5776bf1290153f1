import numpy as np
import pandas as pd
import pytest

from hrlmeta import tidy


def _episodic(n=5):
    return pd.DataFrame(
        {
            "experiment": "fourrooms_sutton",
            "env": "fourrooms",
            "algo": "flat_q",
            "seed": 0,
            "episode": np.arange(n),
            "steps": np.full(n, 10),
            "return": np.ones(n),
            "success": True,
            "decisions": np.full(n, 10),
        }
    )


def test_write_run_roundtrip_and_bytes_are_deterministic(tmp_path):
    df = _episodic()
    tidy.write_run(df, tmp_path / "a.parquet", "episodic")
    tidy.write_run(df, tmp_path / "b.parquet", "episodic")
    assert (tmp_path / "a.parquet").read_bytes() == (tmp_path / "b.parquet").read_bytes()
    back = tidy.read_parquet(tmp_path / "a.parquet")
    pd.testing.assert_frame_equal(back, tidy.normalise(df, "episodic"))


@pytest.mark.parametrize(
    "mutate,match",
    [
        (lambda d: d.drop(columns="success"), "missing required column"),
        (lambda d: d.assign(steps=d["steps"].astype(float) + 0.5), "'steps' has dtype"),
        (lambda d: d.assign(steps=-1), "'steps' has negative"),
        (lambda d: d.assign(decisions=d["steps"] + 1), "'decisions' exceeds 'steps'"),
        (lambda d: d.assign(env=None), "'env' has"),
    ],
)
def test_validate_names_the_offending_column(mutate, match):
    with pytest.raises(tidy.SchemaError, match=match):
        tidy.validate(mutate(_episodic()), "episodic")


def test_meta_schema_requires_wall_s():
    df = pd.DataFrame(
        {"experiment": "e", "env": "x", "algo": "maml", "seed": [0], "iteration": [0],
         "phase": ["meta_train"], "return": [-1.0]}
    )
    with pytest.raises(tidy.SchemaError, match="wall_s"):
        tidy.validate(df, "meta")


def test_atomic_write_leaves_no_partial_file_on_failure(tmp_path, monkeypatch):
    target = tmp_path / "x.bin"
    target.write_bytes(b"old")

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(OSError):
        tidy.atomic_write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["x.bin"]
