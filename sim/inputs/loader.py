"""Load YAML data files safely and turn every problem into one clear message.

One set of rules for every YAML text the project reads (data files and ``--set`` values):

- Only the safe loader is used; explicit tags, anchors and aliases are refused, so nothing in a
  file is executed and no document can expand exponentially.
- Mappings and sequences nest at most ``MAX_DEPTH`` levels; a file is at most ``MAX_FILE_BYTES``.
- A key given twice in one mapping is an error (YAML 1.1 loaders silently keep the last one).
- Plain scalars are resolved by the YAML 1.2 core schema, not YAML 1.1: ``1:30`` is the text
  "1:30" (not 90), ``yes``/``no``/``on``/``off`` are text (booleans are ``true``/``false``),
  ``1e3`` is a number, ``0x1E`` and ``0o36`` are hexadecimal and octal. A decimal integer with a
  leading zero (``036``: 30 in YAML 1.1, 36 in 1.2) is refused as ambiguous.

A validation error names the file, the field path and, where possible, the line.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

from sim.errors import InputError

MAX_FILE_BYTES = 2_000_000
MAX_DEPTH = 64  # nesting levels of mappings and sequences (the shipped files use fewer than 10)
MAX_VALUE_CHARS = 100_000  # one --set value
MAX_NUMBER_DIGITS = 100
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


class _Refused(yaml.YAMLError):
    """A rule of ours (not a YAML syntax error): its message is reported as it is."""

    def __init__(self, message: str, mark: Any = None):
        super().__init__(message)
        self.message, self.mark = message, mark


_INT = re.compile(r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$")
_FLOAT = re.compile(r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
                    r"|\.(?:nan|NaN|NAN))$")


def _int(loader: yaml.BaseLoader, node: yaml.ScalarNode) -> int:
    text = loader.construct_scalar(node)
    if len(text) > MAX_NUMBER_DIGITS:
        raise _Refused(f"number {text[:20]}... has more than {MAX_NUMBER_DIGITS} digits", node.start_mark)
    if text.startswith("0x"):
        return int(text[2:], 16)
    if text.startswith("0o"):
        return int(text[2:], 8)
    digits = text.lstrip("+-")
    if len(digits) > 1 and digits[0] == "0":
        raise _Refused(f"ambiguous number {text} (YAML 1.1 reads a leading zero as octal): write "
                       f"{int(text)}, or quote it if it is text", node.start_mark)
    return int(text)


def _float(loader: yaml.BaseLoader, node: yaml.ScalarNode) -> float:
    text = loader.construct_scalar(node)
    if len(text) > MAX_NUMBER_DIGITS:
        raise _Refused(f"number {text[:20]}... has more than {MAX_NUMBER_DIGITS} digits", node.start_mark)
    low = text.lower()
    if low.endswith(".inf"):
        return float("-inf") if low.startswith("-") else float("inf")
    if low == ".nan":
        return float("nan")
    return float(text)


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # libyaml when available: same rules, faster
    """The safe loader with YAML 1.2 core-schema scalars and no duplicate keys."""

    yaml_implicit_resolvers: dict = {}  # noqa: RUF012 - PyYAML's class-level registry, replaced (not YAML 1.1's)

    def construct_mapping(self, node: yaml.Node, deep: bool = False) -> dict:
        if not isinstance(node, yaml.MappingNode):
            raise _Refused(f"expected a mapping, found {node.id}", node.start_mark)
        mapping: dict = {}
        for key_node, value_node in node.value:
            key = self.construct_object(key_node, deep=deep)
            try:
                seen = key in mapping
            except TypeError:
                raise _Refused("a mapping key must be a plain value, not a list or mapping",
                               key_node.start_mark) from None
            if seen:
                raise _Refused(f"duplicate key {key!r} (each key may appear once in a mapping)", key_node.start_mark)
            mapping[key] = self.construct_object(value_node, deep=deep)
        return mapping


for _tag, _regexp, _first in (
        ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
        ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
        ("int", _INT.pattern, list("-+0123456789")),
        ("float", _FLOAT.pattern, list("-+.0123456789"))):
    _Loader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_regexp), _first)
_Loader.add_constructor("tag:yaml.org,2002:int", _int)
_Loader.add_constructor("tag:yaml.org,2002:float", _float)


def _line_of(exc: yaml.YAMLError, text: str) -> int | None:
    mark = getattr(exc, "mark", None) or getattr(exc, "problem_mark", None)
    if mark is not None:
        return mark.line + 1
    pos = getattr(exc, "position", None)  # a ReaderError (control character) gives a position only
    return text.count("\n", 0, pos) + 1 if isinstance(pos, int) else None


def parse_text(text: str, where: str | Path) -> tuple[Any, yaml.Node | None]:
    """Parse one YAML document under the rules above; return the data and its node tree.

    Anchors, aliases, tags and excess depth are refused on the event stream, before anything
    is built, so an alias bomb or a 100,000-level list costs one linear scan.
    """
    try:
        depth = 0
        for event in yaml.parse(text, Loader=_Loader):
            if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
                raise InputError(where, "", "YAML anchors and aliases are not allowed", event.start_mark.line + 1)
            if getattr(event, "tag", None) is not None:
                raise InputError(where, "", f"YAML tag {event.tag!r} is not allowed", event.start_mark.line + 1)
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise InputError(where, "", f"nested more than {MAX_DEPTH} levels deep",
                                     event.start_mark.line + 1)
            elif isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
        loader = _Loader(text)
        try:
            node = loader.get_single_node()
            data = loader.construct_document(node) if node is not None else None
        finally:
            loader.dispose()
        return data, node
    except _Refused as exc:
        raise InputError(where, "", exc.message, _line_of(exc, text)) from None
    except yaml.YAMLError as exc:
        problem = getattr(exc, "problem", None) or (str(exc).splitlines() or ["?"])[0]
        raise InputError(where, "", f"malformed YAML: {problem}", _line_of(exc, text)) from None
    except RecursionError:  # pragma: no cover - the depth limit comes first
        raise InputError(where, "", "document is nested too deeply") from None


def parse_value(text: str, where: str, field: str = "") -> Any:
    """A YAML value given on the command line (``--set KEY=VALUE``): the same rules as files."""
    if len(text) > MAX_VALUE_CHARS:
        raise InputError(where, field, f"value is longer than {MAX_VALUE_CHARS:,} characters")
    try:
        return parse_text(text, where)[0]
    except InputError as exc:
        raise InputError(where, field, exc.message) from None


def check_plain_data(value: Any, where: str, field: str = "") -> None:
    """Refuse data that YAML under these rules could not have produced: nested deeper than
    ``MAX_DEPTH``, self-referencing, or holding other than dicts, lists, text, numbers, booleans
    and null (values handed to the API directly, e.g. ``overrides=`` or a sweep dict)."""
    if value is None or isinstance(value, str | int | float):
        return
    stack = [(value, 1)]
    while stack:
        x, depth = stack.pop()
        if isinstance(x, dict | list | tuple):
            if depth > MAX_DEPTH:
                raise InputError(where, field, f"value is nested more than {MAX_DEPTH} levels deep "
                                 "(or refers to itself)")
            items = x.items() if isinstance(x, dict) else enumerate(x)
            for k, v in items:
                if isinstance(x, dict) and not (k is None or isinstance(k, str | int | float)):
                    raise InputError(where, field, f"a mapping key must be a plain value, not {type(k).__name__}")
                stack.append((v, depth + 1))
        elif not (x is None or isinstance(x, str | int | float)):
            raise InputError(where, field, f"unsupported value of type {type(x).__name__}")


def _copy(x: Any) -> Any:
    """A copy of parsed data (dicts, lists and scalars only; depth is bounded by MAX_DEPTH)."""
    if isinstance(x, dict):
        return {k: _copy(v) for k, v in x.items()}
    if isinstance(x, list):
        return [_copy(v) for v in x]
    return x


@lru_cache(maxsize=256)
def _read_cached(path: str, mtime_ns: int, size: int) -> tuple[Any, yaml.Node | None]:
    p = Path(path)
    raw = p.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InputError(p, "", "file is not UTF-8 text") from None
    return parse_text(text, p)


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
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise InputError(path, "", f"cannot read file: {getattr(exc, 'strerror', None) or exc}") from None
    if not path.is_file():
        raise InputError(path, "", "not a regular file")
    if st.st_size > MAX_FILE_BYTES:
        raise InputError(path, "", f"file is larger than {MAX_FILE_BYTES} bytes")
    try:
        data, node = _read_cached(str(path), st.st_mtime_ns, st.st_size)
    except OSError as exc:
        raise InputError(path, "", f"cannot read file: {exc.strerror}") from None
    return _copy(data), node


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


def load_shared[M: BaseModel](model: type[M], path: str | Path) -> M:
    """``load`` for frozen models, cached like ``read_yaml`` (by path, modification time and size):
    the validated object is shared, so compiling many variants validates each file once."""
    path = Path(path)
    try:
        st = path.stat()
    except (OSError, ValueError):
        return load(model, path)  # the same one-line error as an uncached load
    return _load_cached(model, str(path), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=256)
def _load_cached(model: type[BaseModel], path: str, mtime_ns: int, size: int) -> BaseModel:
    if not model.model_config.get("frozen"):
        raise TypeError(f"{model.__name__} is not frozen: it cannot be shared")
    return load(model, path)
