"""Safe YAML loading that remembers where every mapping and key came from.

``load_yaml`` uses PyYAML's C loader when it is available (the pure-Python
one otherwise), and only ever the safe constructors. Mappings come back as
:class:`Located`, a ``dict`` that also knows its line and the line of each of
its keys, so validation errors can point at ``path:line``. Duplicate keys,
which YAML would silently let override each other, are collected as problems.

``parse_fast`` is the bank loader's fast path: the same document, parsed by
``yaml_rs`` (Rust) into plain dicts and lists, several times faster, with no
per-node line (only a topic file's cards know theirs). yaml_rs reads YAML
1.2, PyYAML 1.1: text where the two could differ makes it give up (the caller
then uses PyYAML), and a string PyYAML might have read as a bool, number or
date (``may_differ``) must send its file to PyYAML too, which the bank
checker does for every string it accepts. A caller that finds a problem in
fast-parsed data re-reads with PyYAML to report lines (``bank/load.py``).
PyYAML itself is imported only when ``load_yaml`` is first used.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any


class Located(dict):
    """A mapping from YAML with ``line`` (1-based) and ``key_lines``."""

    line: int = 0
    key_lines: dict[Any, int]

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class LocatedList(list):
    """A sequence from YAML with ``line`` and the line of each item
    (so a scalar where a mapping belongs can still be pointed at)."""

    line: int = 0
    item_lines: list[int]

    def line_of_item(self, index: int) -> int:
        return self.item_lines[index] if index < len(self.item_lines) else self.line


class YamlError(Exception):
    def __init__(self, message: str, line: int = 0, column: int = 0):
        super().__init__(message)
        self.message = message
        self.line = line
        self.column = column


@cache
def _loader_class() -> type:
    """PyYAML's safe C loader (pure Python without libyaml), building :class:`Located` mappings."""
    import yaml

    base = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

    class _Loader(base):  # type: ignore[misc, valid-type]
        def __init__(self, stream: str):
            super().__init__(stream)
            self.duplicate_keys: list[tuple[int, Any]] = []

    def construct_mapping(loader: _Loader, node: yaml.MappingNode) -> Located:
        loader.flatten_mapping(node)
        mapping = Located()
        mapping.line = node.start_mark.line + 1
        mapping.key_lines = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            try:
                hash(key)
            except TypeError:
                raise yaml.constructor.ConstructorError(
                    None, None, "found an unhashable key", key_node.start_mark
                ) from None
            line = key_node.start_mark.line + 1
            if key in mapping:
                loader.duplicate_keys.append((line, key))
            mapping[key] = loader.construct_object(value_node, deep=True)
            mapping.key_lines[key] = line
        return mapping

    def construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
        seq = LocatedList(loader.construct_object(child, deep=True) for child in node.value)
        seq.line = node.start_mark.line + 1
        seq.item_lines = [child.start_mark.line + 1 for child in node.value]
        return seq

    def construct_timestamp(loader: _Loader, node: yaml.ScalarNode) -> Any:
        """A date-like scalar that is no date (2026-13-01) is a problem at its line, not a crash."""
        try:
            return yaml.constructor.SafeConstructor.construct_yaml_timestamp(loader, node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a valid date ({exc})", node.start_mark
            ) from None

    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, construct_mapping)
    _Loader.add_constructor("tag:yaml.org,2002:timestamp", construct_timestamp)
    _Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, construct_sequence)
    return _Loader


def read_text(path: Path) -> str:
    """A file's text, or :class:`YamlError` when it cannot be read or is not UTF-8."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise YamlError(f"cannot read file: {exc.strerror or exc}") from None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise YamlError(f"not UTF-8 text (byte 0x{raw[exc.start]:02x}: {exc.reason})", line, column) from None


def load_yaml(path: Path) -> tuple[Any, list[tuple[int, Any]]]:
    """Parse one file. Returns (document, duplicate keys as (line, key)).

    Raises :class:`YamlError` with a line and column for malformed YAML, and
    for files that cannot be read or decoded.
    """
    return parse_located(read_text(path))


def parse_located(text: str) -> tuple[Any, list[tuple[int, Any]]]:
    import yaml

    loader = _loader_class()(text)
    try:
        data = loader.get_single_data()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or exc.context or "invalid YAML"
        if mark is None:
            raise YamlError(f"invalid YAML: {problem}") from None
        raise YamlError(f"invalid YAML: {problem}", mark.line + 1, mark.column + 1) from None
    except yaml.YAMLError as exc:
        raise YamlError(f"invalid YAML: {exc}") from None
    finally:
        loader.dispose()
    return data, loader.duplicate_keys


def node_line(node: Any) -> int:
    """The line of a parsed mapping or sequence; 0 when it was fast-parsed (no lines)."""
    return node.line if isinstance(node, Located | LocatedList) else 0


def key_line(mapping: Any, key: Any) -> int:
    """The line of ``key`` in a parsed mapping (its own line if the key is absent); 0 when fast-parsed."""
    return mapping.line_of(key) if isinstance(mapping, Located) else 0


# ---------------------------------------------------------------- the fast path

# PyYAML's implicit resolvers (YAML 1.1, yaml/resolver.py): a plain scalar matching
# one is not a string to PyYAML. yaml_rs (YAML 1.2 core schema) keeps most of them
# (yes, on, 1_000, 1:30, <<, =) as strings, so any string that matches makes the
# file take the PyYAML path. tests/test_bank_load.py checks this list against PyYAML's.
IMPLICIT_PATTERNS = (
    r"""^(?:yes|Yes|YES|no|No|NO
                    |true|True|TRUE|false|False|FALSE
                    |on|On|ON|off|Off|OFF)$""",
    r"""^(?:[-+]?(?:[0-9][0-9_]*)\.[0-9_]*(?:[eE][-+][0-9]+)?
                    |\.[0-9][0-9_]*(?:[eE][-+][0-9]+)?
                    |[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+\.[0-9_]*
                    |[-+]?\.(?:inf|Inf|INF)
                    |\.(?:nan|NaN|NAN))$""",
    r"""^(?:[-+]?0b[0-1_]+
                    |[-+]?0[0-7_]+
                    |[-+]?(?:0|[1-9][0-9_]*)
                    |[-+]?0x[0-9a-fA-F_]+
                    |[-+]?[1-9][0-9_]*(?::[0-5]?[0-9])+)$""",
    r"^(?:<<)$",
    r"""^(?: ~
                    |null|Null|NULL
                    | )$""",
    r"""^(?:[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]
                    |[0-9][0-9][0-9][0-9] -[0-9][0-9]? -[0-9][0-9]?
                     (?:[Tt]|[ \t]+)[0-9][0-9]?
                     :[0-9][0-9] :[0-9][0-9] (?:\.[0-9]*)?
                     (?:[ \t]*(?:Z|[-+][0-9][0-9]?(?::[0-9][0-9])?))?)$""",
    r"^(?:=)$",
    r"^(?:!|&|\*)$",
)
_IMPLICIT = re.compile("|".join(f"(?:{p})" for p in IMPLICIT_PATTERNS), re.X)
IMPLICIT_FIRST = frozenset("0123456789+-.<=~!&*yYnNtTfFoO")  # PyYAML looks resolvers up by first character
_NUMERIC_FIRST = frozenset("0123456789+-.")  # the others only match words of 5 characters or fewer
# YAML 1.2's core schema: plain scalars that yaml_rs reads as null, bool, int or float.
CORE_SCHEMA = re.compile(
    r"null|Null|NULL|~|true|True|TRUE|false|False|FALSE"
    r"|[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+"
    r"|[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
    r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN)"
)


def could_resolve(value: str) -> bool:
    """The cheap half of ``may_differ``: only numbers, dates and a few short words
    (``true``, ``null``, ``~``, ``<<``...) can match a resolver."""
    return value[:1] in IMPLICIT_FIRST and (len(value) <= 5 or value[0] in _NUMERIC_FIRST)


def may_differ(value: str) -> bool:
    """Could PyYAML have read this string, from a fast-parsed file, as something else?

    Only if it matches one of PyYAML's implicit resolvers (a bool, number, date,
    null... when written plain) and yaml_rs reads it, written plain, as a string
    too (``yes``, ``1:30``, ``1_000``; not ``1`` or ``0.25``, which yaml_rs
    would have made numbers, so they were quoted). Then the file must show it
    quoted (``written_quoted``) or be read by PyYAML."""
    if not could_resolve(value) or _IMPLICIT.match(value) is None:
        return False
    if CORE_SCHEMA.fullmatch(value):  # what yaml_rs makes a number, bool or null (tests check it does)
        return False
    try:
        return type(_yaml_rs().loads(value, parse_datetime=False)) is str
    except Exception:
        return True


def doubtful_strings(data: Any) -> set[str]:
    """Every string (key or value) in parsed data for which ``may_differ``."""
    found = set()
    stack = [data]
    while stack:
        node = stack.pop()
        if isinstance(node, str):
            if may_differ(node):
                found.add(node)
        elif isinstance(node, dict):  # Located too
            stack.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return found


def _may_start_plain(text: str, at: int) -> bool:
    """Could a plain scalar start at ``at``: at a line's indentation, after a block
    indicator (``-``, ``?``, ``:``) and spaces, a flow indicator, or an anchor?"""
    i = at - 1
    if i >= 0 and text[i] in "[{,:":
        return True
    if i >= 0 and text[i] != " " and text[i] != "\n":
        return False
    while i >= 0 and text[i] == " ":
        i -= 1
    if i < 0 or text[i] in "\n[{,-?:":
        return True
    token = text[max(text.rfind(" ", 0, i), text.rfind("\n", 0, i)) + 1 :]
    return token.startswith("&")


def _may_end_plain(text: str, end: int, block_item: bool) -> bool:
    """Could a plain scalar end at ``end``: line end, comment, ``: ``, flow indicator
    (``,`` only outside a block sequence entry: ``- yes, every step`` is one string)?"""
    if end >= len(text) or text[end] in "\n]}:" or (text[end] == "," and not block_item):
        return True
    if text[end] != " ":
        return False
    rest = text[end : text.find("\n", end)].lstrip(" ")
    return not rest or rest.startswith(("#", ":"))


def written_quoted(text: str, value: str) -> bool:
    """Is every occurrence of ``value`` in ``text`` that could be a plain scalar
    in fact quoted (and there is at least one)? Then PyYAML read it as a string
    too. Conservative: a doubtful occurrence (in prose after ``- ``, or folded
    over lines) counts as maybe plain."""
    if not value or value != "".join(value.split()):
        return False
    quoted = False
    n = len(value)
    at = text.find(value)
    while at != -1:
        before = text[at - 1] if at else "\n"
        after = text[at + n] if at + n < len(text) else "\n"
        if before in "\"'" and after == before:
            quoted = True
        elif _may_start_plain(text, at):
            lead = text[text.rfind("\n", 0, at) + 1 : at].replace(" ", "")
            if _may_end_plain(text, at + n, block_item=bool(lead) and set(lead) <= {"-", "?"}):
                return False
        at = text.find(value, at + 1)
    return quoted


# Text where the two parsers may disagree, or PyYAML refuses what yaml_rs takes, sends
# the file to PyYAML: characters other than printable ones and LF (tabs, CR, NEL, LS,
# PS and a BOM are line breaks or white space differently in YAML 1.1 and 1.2),
# directives, tags (PyYAML refuses unknown ones, yaml_rs drops them), integers with a
# leading 0 or 0o as mapping values or anchored (octal in 1.1, decimal or octal in
# 1.2) and a last line without a line break (block scalars differ). Document markers
# need no check: one document reads the same, several are a list (not a topic file:
# a problem, so PyYAML's reading). A false alarm only costs speed.
# Checked on the UTF-8 bytes (several times faster than on the text): ASCII controls
# but LF, and the encodings of U+0080-U+009F, U+2028-U+2029, U+FEFF, U+FFFE-U+FFFF.
_PLAIN_BYTES = bytes([0x0A, *range(0x20, 0x7F), *range(0x80, 0x100)])
_UNUSUAL_UTF8 = (
    re.compile(rb"\xc2[\x80-\x9f]"),
    re.compile(rb"\xe2\x80[\xa8\xa9]"),
    re.compile(rb"\xef(?:\xbb\xbf|\xbf[\xbe\xbf])"),
)
_ZERO_VALUE = re.compile(r":\s*[-+]?0[0-9oO]")
_ZERO_ANCHORED = re.compile(r"&\S+\s+[-+]?0[0-9oO]")
# A card's first line, as PyYAML reports it: the line of its ``- id: ...`` (only
# spaces before the dash; checked in ``_card_lines``).
_CARD_ID = re.compile(r"-[ ]+id[ ]*:[ ]+(['\"]?)([a-z0-9-]+)\1[ ]*(?:#[^\n]*)?(?=\n)")


def _has_tag(text: str) -> bool:
    """A ``!`` where a node starts (line start, after ``- ``, ``? ``, ``: `` or a flow indicator)."""
    at = text.find("!")
    while at != -1:
        before = text[text.rfind("\n", 0, at) + 1 : at]
        stripped = before.rstrip(" ")
        if not stripped or stripped[-1] in "[{," or (stripped[-1] in "-?:" and len(stripped) < len(before)):
            return True
        at = text.find("!", at + 1)
    return False


def _unusual_characters(text: str) -> bool:
    try:
        raw = text.encode()
    except UnicodeEncodeError:  # a lone surrogate
        return True
    return bool(raw.translate(None, _PLAIN_BYTES)) or any(rx.search(raw) for rx in _UNUSUAL_UTF8)


def _risky(text: str) -> bool:
    return bool(
        not text.endswith("\n")
        or text.startswith("%")
        or "\n%" in text
        or _unusual_characters(text)
        or _ZERO_VALUE.search(text)
        or ("&" in text and _ZERO_ANCHORED.search(text))
        or _has_tag(text)
    )


@cache
def _yaml_rs() -> Any:
    try:
        import yaml_rs
    except ImportError:  # not installed (or no wheel for this platform): PyYAML does it all
        return None
    return yaml_rs


def parse_fast(text: str) -> Any:
    """The document as PyYAML would give it, up to strings for which ``may_differ``
    (the caller checks those it accepts), with a ``Located`` top mapping and cards
    that know their lines; or None when the text is not provably read the same."""
    yaml_rs = _yaml_rs()
    if yaml_rs is None or _risky(text):
        return None
    try:
        data = yaml_rs.loads(text, parse_datetime=False)  # duplicate keys raise: PyYAML reports them
    except Exception:  # invalid YAML: PyYAML gives the message and the line
        return None
    if type(data) is not dict:
        return data
    top = Located(data)
    top.key_lines = {}
    cards = data.get("cards")
    if type(cards) is list:
        lines = _card_lines(text, cards)
        if lines is None:
            return None
        located = LocatedList()
        located.item_lines = lines
        for card, lineno in zip(cards, lines, strict=True):
            item = Located(card)
            item.line = lineno
            item.key_lines = {}
            located.append(item)
        top["cards"] = located
    return top


def _card_lines(text: str, cards: list) -> list[int] | None:
    """Each card's line: its ``- id: <id>`` line, found in order, one per card;
    None if they cannot be matched one to one (then PyYAML says)."""
    lines = []
    at, lineno = 0, 1
    found = _CARD_ID.finditer(text)
    for card in cards:
        m = next(found, None)
        while m is not None and text[text.rfind("\n", 0, m.start()) + 1 : m.start()].strip(" "):
            m = next(found, None)  # not at the start of a line: some text's "- id: x"
        if m is None or type(card) is not dict or next(iter(card), None) != "id" or card["id"] != m.group(2):
            return None
        lineno += text.count("\n", at, m.start())
        at = m.start()
        lines.append(lineno)
    if next(found, None) is not None:
        return None
    return lines
