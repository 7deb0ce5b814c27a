"""The YAML loader refuses anything that could execute or explode, with a clear message."""

from __future__ import annotations

import pytest

from sim.errors import InputError, SessionError
from sim.inputs.loader import read_yaml


@pytest.mark.parametrize("text,expect", [
    ("a: !!python/object/apply:os.system ['echo hi']\n", "tag"),
    ("a: &x [1, 2]\nb: *x\n", "anchors and aliases"),
    ("a: &a [1]\nb: &b [*a, *a]\nc: [*b, *b]\n", "anchors and aliases"),
    ("a: [1, 2\n", "malformed YAML"),
    ("a: !custom 3\n", "tag"),
])
def test_hostile_yaml_is_refused(tmp_path, text, expect):
    p = tmp_path / "x.yaml"
    p.write_text(text)
    with pytest.raises(InputError, match=expect) as exc:
        read_yaml(p)
    assert str(p) in str(exc.value)


def test_size_limit(tmp_path):
    p = tmp_path / "big.yaml"
    p.write_text("a: " + "x" * 3_000_000)
    with pytest.raises(InputError, match="larger than"):
        read_yaml(p)


def test_not_utf8(tmp_path):
    p = tmp_path / "bin.yaml"
    p.write_bytes(b"\xff\xfe\x00a")
    with pytest.raises(InputError, match="UTF-8"):
        read_yaml(p)


def test_input_errors_survive_pickling():
    """Worker processes send errors back to the parent unchanged."""
    import pickle


    e = pickle.loads(pickle.dumps(InputError("a.yaml", "x.y", "bad value", 3)))
    assert str(e) == "a.yaml:3: x.y: bad value" and e.line == 3
    s = pickle.loads(pickle.dumps(SessionError("not now", "phase")))
    assert isinstance(s, SessionError) and s.message == "not now"
