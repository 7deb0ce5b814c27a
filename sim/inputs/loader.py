"""Load YAML data files safely and turn every problem into one clear message.

Only ``yaml.SafeLoader`` is used; tags, anchors and aliases are refused so that
nothing in a file is executed and no document can expand exponentially. A
validation error names the file, the field path and, where possible, the line.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import InputError

MAX_FILE_BYTES = 2_000_000
M = TypeVar("M", bound=BaseModel)


def _node_at(node: yaml.Node | None, loc: tuple[Any, ...]) -> yaml.Node | None:
    """Follow a pydantic error location through the composed YAML node tree."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            nxt = None
            for k, v in node.value:
                if k.value == str(key):
                    nxt = v
                    break
            if nxt is None:
                return node
            node = nxt
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return node
    return node


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when available: same rules, faster


def _check_plain(path: Path, text: str) -> tuple[Any, yaml.Node | None]:
    """Refuse anchors, aliases and explicit tags, then compose and construct once."""
    try:
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise InputError(path, "", "YAML anchors and aliases are not allowed", event.start_mark.line + 1)
            if getattr(event, "tag", None) is not None:
                raise InputError(path, "", f"YAML tag {event.tag!r} is not allowed", event.start_mark.line + 1)
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
        return data, node
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        problem = getattr(exc, "problem", None) or str(exc)
        raise InputError(path, "", f"malformed YAML: {problem}", mark.line + 1 if mark else None) from None
    except RecursionError:
        raise InputError(path, "", "document is nested too deeply") from None


@lru_cache(maxsize=256)
def _read_cached(path: str, mtime_ns: int, size: int) -> tuple[Any, yaml.Node | None]:
    p = Path(path)
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(p, "", "file is not UTF-8 text") from None
    return _check_plain(p, text)


def read_yaml(path: str | Path) -> tuple[Any, yaml.Node | None]:
    """Read a YAML file with the safe loader; return the data (a fresh copy) and its node tree.

    Parsed files are cached by path, modification time and size, so compiling many
    variants of a scenario parses each file once.
    """
    path = Path(path)
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(path, "", "file not found") from None
    except OSError as exc:
        raise InputError(path, "", f"cannot read file: {exc.strerror}") from None
    if not path.is_file():
        raise InputError(path, "", "not a regular file")
    if st.st_size > MAX_FILE_BYTES:
        raise InputError(path, "", f"file is larger than {MAX_FILE_BYTES} bytes")
    try:
        data, node = _read_cached(str(path), st.st_mtime_ns, st.st_size)
    except OSError as exc:
        raise InputError(path, "", f"cannot read file: {exc.strerror}") from None
    return copy.deepcopy(data), node


def validate[M: BaseModel](model: type[M], data: Any, path: str | Path, node: yaml.Node | None = None) -> M:
    """Validate data against a schema model; raise one InputError for the first problem."""
    if not isinstance(data, dict):
        raise InputError(path, "", f"expected a mapping at the top level, found {type(data).__name__}")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        field = ".".join(str(p) for p in loc) or "(document)"
        target = _node_at(node, loc) if node is not None else None
        line = target.start_mark.line + 1 if target is not None else None
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = "unknown field"
        elif err["type"] == "missing":
            msg = "required field is missing"
        elif err["type"] == "literal_error":
            msg = f"{msg} (got {err.get('input')!r})"
        raise InputError(path, field, msg, line) from None


def load[M: BaseModel](model: type[M], path: str | Path) -> M:
    """Read and validate one file."""
    data, node = read_yaml(path)
    return validate(model, data, path, node)
