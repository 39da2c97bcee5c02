"""The Jinja2 sandbox templates run in, with bounds.

Templates are data staff write, so they run sandboxed, and within limits: they are read only
from inside the templates folder (no link leads out of it), and a template cannot make a number
or a text so large that it exhausts memory — `{{ 'a' * 10**9 }}` or `{{ 10**10000 }}` stop at
once with a sentence naming the template and line. Each rendering also has a ceiling on its
output and on the time it takes.
"""

from __future__ import annotations

import math
import os
import posixpath
import re
import time
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from jinja2 import BaseLoader, FileSystemLoader, Template, TemplateNotFound, nodes, pass_context, pass_eval_context
from jinja2.exceptions import SecurityError
from jinja2.filters import FILTERS as DEFAULT_FILTERS
from jinja2.loaders import split_template_path
from jinja2.nodes import EvalContext
from jinja2.runtime import Context, markup_join, str_join
from jinja2.sandbox import SandboxedEnvironment
from jinja2.visitor import NodeTransformer

from broadcaster.paths import within

MAX_TEMPLATE_BYTES = 256 * 1024  # one template file
MAX_TEXT = 200_000  # characters of one part, and of any one text a template builds on the way
MAX_WRITTEN = 2_000_000  # characters written in one rendering, counting what macros and blocks build
MAX_STEPS = 200_000  # loop iterations and range() items in one rendering, every loop together
MAX_DIGITS = 100  # digits of any number a template computes
MAX_WIDTH = 1_000  # a field width or precision in a format string
MAX_SECONDS = 10.0  # one rendering (a real one takes milliseconds)


class TemplateLimit(SecurityError):
    """A template went past one of the bounds; the message says which, and how to stay within it."""


class TemplateOutsideFolder(TemplateNotFound):
    """A template name, or a link on its way, that leads out of the templates folder."""


# ---- reading templates -------------------------------------------------------------------------


class ConfinedLoader(FileSystemLoader):
    """Reads templates only from inside its folder: a link that leads out of it is refused."""

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        root = self.searchpath[0]
        filename = posixpath.join(root, *split_template_path(template))
        if not os.path.isfile(filename):
            raise TemplateNotFound(template)
        if not within(root, filename):
            raise TemplateOutsideFolder(
                template, f"'{template}', which leads outside the templates folder (through a symbolic link)"
            )
        size = os.path.getsize(filename)
        if size > MAX_TEMPLATE_BYTES:
            raise TemplateLimit(f"'{template}', which is {size:,} bytes (a template may have {MAX_TEMPLATE_BYTES:,})")
        with open(filename, encoding=self.encoding) as stream:
            contents = stream.read()
        mtime = os.path.getmtime(filename)

        def uptodate() -> bool:
            try:
                return os.path.getmtime(filename) == mtime
            except OSError:
                return False

        return contents, os.path.normpath(filename), uptodate


class TextsLoader(BaseLoader):
    """Reads templates from texts held in the database (a campaign's, a version's), within the same size
    bound as files. A text's name stands for its file name, so an error names the text and its line."""

    def __init__(self, texts: Mapping[str, str]) -> None:
        self.texts = dict(texts)

    def get_source(self, environment: Any, template: str) -> tuple[str, str, Callable[[], bool]]:
        if template not in self.texts:
            raise TemplateNotFound(template)
        source = self.texts[template]
        size = len(source.encode("utf-8"))
        if size > MAX_TEMPLATE_BYTES:
            raise TemplateLimit(f"'{template}', which is {size:,} bytes (a template may have {MAX_TEMPLATE_BYTES:,})")
        return source, template, lambda: self.texts.get(template) == source

    def list_templates(self) -> list[str]:
        return sorted(self.texts)


# ---- the budget of one rendering ---------------------------------------------------------------


@dataclass
class _Budget:
    deadline: float
    steps: int = 0
    written: int = 0

    def tick(self, steps: int = 0, written: int = 0) -> None:
        self.steps += steps
        self.written += written
        if self.steps > MAX_STEPS:
            raise TemplateLimit(f"loops more than {MAX_STEPS:,} times in one rendering")
        if self.written > MAX_WRITTEN:
            raise TemplateLimit(f"writes more than {MAX_WRITTEN:,} characters in one rendering")
        if time.monotonic() > self.deadline:
            raise TemplateLimit(f"takes longer than {MAX_SECONDS:g} seconds (a loop that never ends?)")


_budget: ContextVar[_Budget | None] = ContextVar("template_budget", default=None)


def _tick(steps: int = 0, written: int = 0) -> None:
    budget = _budget.get()
    if budget is not None:  # None while Jinja2 folds constants at compile time: nothing runs then
        budget.tick(steps, written)


def render_bounded(template: Template, context: Mapping[str, Any]) -> str:
    """Render within the bounds: the output is counted as it comes, and stops past MAX_TEXT characters."""
    token = _budget.set(_Budget(time.monotonic() + MAX_SECONDS))
    try:
        chunks: list[str] = []
        size = 0
        for chunk in template.generate(context):
            size += len(chunk)
            if size > MAX_TEXT:
                raise TemplateLimit(f"writes more than {MAX_TEXT:,} characters; a bulletin part may have {MAX_TEXT:,}")
            chunks.append(chunk)
        return "".join(chunks)
    finally:
        _budget.reset(token)


# ---- counting what templates write -------------------------------------------------------------
# Literal text is written without passing through any hook, so the parsed template is given
# counters: each template, loop iteration and macro call counts the literal text of its body;
# every `{{ … }}` is counted as it is written (finalize); `~` joins are checked for size.


def _literal_size(body: Iterable[nodes.Node]) -> int:
    """Characters of literal text a body writes itself (loops and macros inside count their own)."""
    size = 0
    pending = list(body)
    while pending:
        node = pending.pop()
        if isinstance(node, nodes.TemplateData):
            size += len(node.data)
        elif not isinstance(node, nodes.For | nodes.Macro | nodes.CallBlock):
            pending.extend(node.iter_child_nodes())
    return size


def _counter(filter_name: str, body: list[nodes.Node], lineno: int) -> nodes.Output:
    call = nodes.Filter(nodes.Const(""), filter_name, [nodes.Const(_literal_size(body))], [], None, None)
    return nodes.Output([call], lineno=lineno).set_lineno(lineno)  # type: ignore[return-value]


class _AddCounters(NodeTransformer):
    def visit_Template(self, node: nodes.Template) -> nodes.Node:
        self.generic_visit(node)
        node.body.insert(0, _counter("_written", node.body, 1))
        return node

    def visit_For(self, node: nodes.For) -> nodes.Node:
        self.generic_visit(node)
        node.body.insert(0, _counter("_iteration", node.body, node.lineno))
        return node

    def visit_Macro(self, node: nodes.Macro) -> nodes.Node:
        self.generic_visit(node)
        node.body.insert(0, _counter("_written", node.body, node.lineno))
        return node

    def visit_CallBlock(self, node: nodes.CallBlock) -> nodes.Node:
        self.generic_visit(node)
        node.body.insert(0, _counter("_written", node.body, node.lineno))
        return node

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        self.generic_visit(node)
        joined = nodes.Filter(nodes.List(node.nodes), "_joined", [], [], None, None)
        return joined.set_lineno(node.lineno)


@pass_context
def _written(context: Context, value: str, size: int) -> str:
    _tick(written=size)
    return value


@pass_context
def _iteration(context: Context, value: str, size: int) -> str:
    _tick(steps=1, written=size)
    return value


@pass_eval_context
def _joined(eval_ctx: EvalContext, parts: list[Any]) -> str:
    size = sum(len(part) if isinstance(part, str) else len(str(_check_number(part))) for part in parts)
    _check_text(size, "joins texts with '~'")
    return str(markup_join(parts) if eval_ctx.autoescape else str_join(parts))


def _finalize(value: Any) -> Any:
    if isinstance(value, str):
        _tick(written=len(value))
    return value


# ---- bounded values ----------------------------------------------------------------------------


def _digits(number: int) -> int:
    return len(str(abs(number))) if abs(number) < 10**MAX_DIGITS else MAX_DIGITS + 1


def _check_text(size: int, doing: str) -> None:
    if size > MAX_TEXT:
        raise TemplateLimit(f"{doing}, which makes a text of {size:,} characters (the limit is {MAX_TEXT:,})")


def _check_number(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool) and _digits(value) > MAX_DIGITS:
        raise TemplateLimit(f"computes a number of more than {MAX_DIGITS} digits")
    return value


def _power(base: Any, exponent: Any) -> Any:
    growing = isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1
    if growing and exponent * math.log10(abs(base)) > MAX_DIGITS:
        raise TemplateLimit(f"computes {base} ** {exponent}, a number of more than {MAX_DIGITS} digits")
    return base**exponent


def _times(left: Any, right: Any) -> Any:
    for sequence, count in ((left, right), (right, left)):
        if isinstance(sequence, str | list | tuple) and isinstance(count, int):
            _check_text(len(sequence) * max(count, 0), f"repeats a text or list {count:,} times")
    if isinstance(left, int) and isinstance(right, int) and _digits(left) + _digits(right) > MAX_DIGITS + 1:
        raise TemplateLimit(f"computes a product of more than {MAX_DIGITS} digits")
    return left * right


def _plus(left: Any, right: Any) -> Any:
    if isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
        _check_text(len(left) + len(right), "adds two texts")
    return left + right


# A width or precision in a %-format or a {}-format: %-10.3f, {:>20}, {0:.2f}.
_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_BRACE_FIELD = re.compile(r"\{[^{}]*\}|\{[^{}]*\{")


def check_format(pattern: str) -> None:
    """Refuse format strings whose widths would build huge texts (`'%999999999d' % 1`)."""
    for match in _PERCENT_FIELD.finditer(pattern):
        for number in match.groups():
            if number == "*" or (number and int(number) > MAX_WIDTH):
                raise TemplateLimit(f"uses the format '{match.group(0)}'; widths may be {MAX_WIDTH} at most")
    for match in _BRACE_FIELD.finditer(pattern):
        field = match.group(0)
        if field.count("{") > 1 or any(int(number) > MAX_WIDTH for number in re.findall(r"\d+", field)):
            raise TemplateLimit(f"uses the format '{field}'; widths may be {MAX_WIDTH} at most")


def _modulo(left: Any, right: Any) -> Any:
    if isinstance(left, str):
        check_format(left)
    return left % right


_BOUNDED_BINOPS: dict[str, Callable[[Any, Any], Any]] = {"**": _power, "*": _times, "+": _plus, "%": _modulo}


# ---- filters and str methods whose arguments decide how long the result is ----------------------


def _whole(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else len(str(value))


def _lines(text: str) -> int:
    return text.count("\n") + 1


def _center_size(value: Any, width: Any = 80) -> int:
    return len(str(value)) + _whole(width)


def _indent_size(value: Any, width: Any = 4, *_: Any, **__: Any) -> int:
    return len(str(value)) + _lines(str(value)) * _whole(width)


def _wordwrap_size(value: Any, width: int = 79, break_long_words: bool = True, wrapstring: Any = None, **_: Any) -> int:
    text = str(value)
    return len(text) + (len(text) // max(int(width), 1) + 1) * len(str(wrapstring or "\n"))


def _replace_size(value: Any, old: Any, new: Any, count: Any = None) -> int:
    text, old_text, new_text = str(value), str(old), str(new)
    times = text.count(old_text) if old_text else len(text) + 1
    if count is not None:
        times = min(times, int(count))
    return len(text) + times * max(len(new_text) - len(old_text), 0)


def _batch_size(value: Any, linecount: Any, fill_with: Any = None) -> int:
    return _whole(linecount) if fill_with is not None else 0


def _slice_size(value: Any, slices: Any, fill_with: Any = None) -> int:
    return _whole(slices)


_SIZES: dict[str, Callable[..., int]] = {
    "center": _center_size,
    "indent": _indent_size,
    "wordwrap": _wordwrap_size,
    "replace": _replace_size,
    "batch": _batch_size,
    "slice": _slice_size,
}


def _guarded(name: str) -> Callable[..., Any]:
    original = DEFAULT_FILTERS[name]
    passes = getattr(original, "jinja_pass_arg", None)
    size_of = _SIZES[name]

    def bounded(*args: Any, **kwargs: Any) -> Any:
        _check_text(size_of(*(args[1:] if passes else args), **kwargs), f"uses the filter '{name}'")
        return original(*args, **kwargs)

    if passes is not None:
        bounded.jinja_pass_arg = passes  # type: ignore[attr-defined]
    return bounded


@pass_eval_context
def _bounded_join(eval_ctx: EvalContext, value: Iterable[Any], d: str = "", attribute: Any = None) -> str:
    items = list(value)
    _check_text(len(str(d)) * max(len(items) - 1, 0), "uses the filter 'join'")
    joined = str(DEFAULT_FILTERS["join"](eval_ctx, items, d, attribute))
    _check_text(len(joined), "uses the filter 'join'")
    return joined


def _bounded_format(value: Any, *args: Any, **kwargs: Any) -> str:
    check_format(str(value))
    return str(DEFAULT_FILTERS["format"](value, *args, **kwargs))


def _bounded_range(*args: int) -> range:
    steps = range(*args)
    if len(steps) > MAX_STEPS:
        raise TemplateLimit(f"asks for range() of {len(steps):,} items; the limit is {MAX_STEPS:,}")
    _tick(steps=len(steps))
    return steps


def _check_str_method(owner: str, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
    """Check a call of a str method that can build a long text; returns the arguments to call it with."""
    values = (*args, *kwargs.values())
    if name in ("center", "ljust", "rjust", "zfill"):
        _check_text(len(owner) + max((_whole(v) for v in values if isinstance(v, int)), default=0), f"calls '{name}'")
    elif name == "expandtabs":
        _check_text(len(owner) + owner.count("\t") * _whole(values[0] if values else 8), "calls 'expandtabs'")
    elif name in ("format", "format_map"):
        check_format(owner)
    elif name == "replace" and len(args) >= 2:
        _check_text(_replace_size(owner, *args[:3]), "calls 'replace'")
    elif name == "join" and args:
        items = list(args[0])
        _check_text(len(owner) * max(len(items) - 1, 0), "calls 'join'")
        return (items, *args[1:])
    return args


class BoundedSandbox(SandboxedEnvironment):
    """Jinja2's sandbox, plus bounds on the size of what templates compute and write, and on time.

    Every arithmetic operator is intercepted, which also keeps Jinja2 from folding constant
    expressions such as `10**10000` while compiling.
    """

    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, finalize=_finalize, **kwargs)
        self.globals["range"] = _bounded_range
        for name in _SIZES:
            self.filters[name] = _guarded(name)
        self.filters.update(
            join=_bounded_join, format=_bounded_format, _written=_written, _iteration=_iteration, _joined=_joined
        )

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        _AddCounters().visit(tree)
        tree.set_environment(self)
        return tree

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        _tick()
        operation = _BOUNDED_BINOPS.get(operator, self.binop_table[operator])
        try:
            return _check_number(operation(left, right))
        except OverflowError:
            shown = f"{left!r:.20} {operator} {right!r:.20}"
            raise TemplateLimit(f"computes a number too large to hold ({shown})") from None

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        # `'{:>999999999}'.format(…)`: the sandbox routes str.format through here; check the pattern first.
        owner = getattr(value, "__self__", None)
        if isinstance(owner, str):
            check_format(owner)
        return super().wrap_str_format(value)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        _tick()
        owner = getattr(__obj, "__self__", None)
        if isinstance(owner, str):
            args = _check_str_method(owner, getattr(__obj, "__name__", ""), args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)
