"""Reading the YAML files staff write (campaigns, issuer profiles), strictly and within bounds.

- A key written twice in one mapping is an error naming both lines: YAML libraries silently keep the
  last one, and `priority: ordinary` … `priority: emergency` must not quietly make an emergency.
- Files over MAX_BYTES are refused before parsing, and aliases may not expand past MAX_VALUES values
  nor nest past MAX_DEPTH levels (791 bytes of nested aliases can otherwise stand for billions).
- Dates stay text until the campaign's own validation reads them, so an impossible date such as
  2026-02-30 gets a sentence at its field, never a traceback from the YAML library.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import AfterValidator
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from broadcaster.problems import InvalidInput, Problem
from broadcaster.text import one_line

# The names staff give things (campaigns, issuers, areas): lower-case letters, digits and hyphens.
SLUG = r"^[a-z0-9][a-z0-9-]*$"
# A text that goes into an e-mail header or a one-line field: no line break, no control character.
OneLine = Annotated[str, AfterValidator(one_line)]

MAX_BYTES = 256 * 1024  # a campaign file is a few kilobytes; the shipped letters are under 3 KB
MAX_VALUES = 20_000  # values in the document once every alias is expanded
MAX_DEPTH = 50  # levels of nesting, aliases expanded
_MERGE = "tag:yaml.org,2002:merge"


class _TextDates(yaml.SafeLoader):
    """The safe loader, except that dates and times are left as text for validation to read."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, pattern) for tag, pattern in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml(path: Path) -> Any:
    """The document in a YAML file; InvalidInput listing every problem (with lines) otherwise."""
    where = str(path)
    text = _read_text(path, where)
    try:
        loader = _TextDates(text)  # the reader refuses control characters here, before any parsing
    except yaml.reader.ReaderError as exc:
        sentence = f"holds a control character that a YAML file cannot hold (character {exc.position + 1})"
        raise InvalidInput(where, [Problem(where, sentence)]) from None
    try:
        try:
            node = loader.get_single_node()
        except RecursionError:
            raise InvalidInput(where, [Problem(where, f"nests more than {MAX_DEPTH} levels deep")]) from None
        if node is None:
            return None
        problems = _Survey(where).problems(node)
        if problems:
            raise InvalidInput(where, problems)
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or "is not valid YAML"
        raise InvalidInput(where, [Problem(where + line, str(problem))]) from None
    finally:
        loader.dispose()


def _read_text(path: Path, where: str) -> str:
    try:
        with path.open("rb") as stream:
            data = stream.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise InvalidInput(where, [Problem(where, "file not found")]) from None
    except IsADirectoryError:
        raise InvalidInput(where, [Problem(where, "is a folder, not a file")]) from None
    except OSError as exc:
        raise InvalidInput(where, [Problem(where, f"cannot be read ({exc.strerror})")]) from None
    if len(data) > MAX_BYTES:
        raise InvalidInput(
            where, [Problem(where, f"is larger than {MAX_BYTES // 1024} KB, more than any campaign file needs")]
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(where, [Problem(where, "is not UTF-8 text")]) from None


class _Survey:
    """One walk over the composed document: duplicate keys, and the size and depth aliases expand to."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.found: list[Problem] = []
        self.sizes: dict[int, tuple[int, int]] = {}  # node id → (values, depth) once expanded
        self.open: set[int] = set()

    def problems(self, root: Node) -> list[Problem]:
        try:
            self.measure(root, 1)
        except _TooBig as exc:
            return [Problem(self.where + _line(exc.node), exc.sentence)]
        return self.found

    def measure(self, node: Node, level: int) -> tuple[int, int]:
        known = self.sizes.get(id(node))
        if known is None:
            if id(node) in self.open:
                raise _TooBig(node, "an alias refers to the value that contains it")
            if level > MAX_DEPTH:
                raise _TooBig(node, f"nests more than {MAX_DEPTH} levels deep")
            self.open.add(id(node))
            known = self._children(node, level)
            self.open.discard(id(node))
            self.sizes[id(node)] = known
        if level - 1 + known[1] > MAX_DEPTH:
            raise _TooBig(node, f"nests more than {MAX_DEPTH} levels deep once its aliases are expanded")
        return known

    def _children(self, node: Node, level: int) -> tuple[int, int]:
        children: list[Node] = []
        if isinstance(node, SequenceNode):
            children = list(node.value)
        elif isinstance(node, MappingNode):
            self._duplicates(node)
            for key, value in node.value:
                children += [key, value]
        values, depth = 1, 1
        for child in children:
            child_values, child_depth = self.measure(child, level + 1)
            values += child_values
            depth = max(depth, child_depth + 1)
            if values > MAX_VALUES:
                raise _TooBig(node, f"expands to more than {MAX_VALUES:,} values (through aliases?)")
        return values, depth

    def _duplicates(self, node: MappingNode) -> None:
        first_seen: dict[str, int] = {}
        for key, _ in node.value:
            if not isinstance(key, ScalarNode) or key.tag == _MERGE:
                continue  # merged keys (<<) may be overridden on purpose
            line = key.start_mark.line + 1
            if key.value in first_seen:
                self.found.append(
                    Problem(
                        f"{self.where} line {line}",
                        f"'{key.value}' is written twice in one mapping (first on line {first_seen[key.value]}); "
                        "keep one",
                    )
                )
            else:
                first_seen[key.value] = line


class _TooBig(Exception):
    def __init__(self, node: Node, sentence: str) -> None:
        self.node, self.sentence = node, sentence


def _line(node: Node) -> str:
    return f" line {node.start_mark.line + 1}" if node.start_mark is not None else ""
