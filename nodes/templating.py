"""Templates that read upstream values into a node's parameters: ``{{ values.user.id }}``, ``{{ values.items[0] }}``.

Jinja2's sandbox, narrowed further: a template reads only fields of JSON objects and items of JSON lists (never an
attribute or a method of a Python object), calls nothing, has no globals, and a field it names that is not there
is an error naming it. Values are data: text inside them is never rendered as a template.
"""

from __future__ import annotations

import json
import re
from typing import Any

from jinja2 import StrictUndefined, TemplateError, UndefinedError
from jinja2.exceptions import SecurityError, TemplateSyntaxError
from jinja2.runtime import Undefined
from jinja2.sandbox import SandboxedEnvironment

from flowza_core.errors import NodeError

WHOLE_EXPRESSION = re.compile(r"^\s*\{\{((?:(?!\{\{|\}\}).)*)\}\}\s*$", re.DOTALL)
FILTERS = ("abs", "capitalize", "count", "d", "default", "first", "float", "int", "join", "last", "length", "list",
           "lower", "max", "min", "replace", "reverse", "round", "sort", "string", "sum", "title", "tojson", "trim",
           "truncate", "unique", "upper", "urlencode")
MAX_RESULT_ITEMS = 1_000_000  # of a string or list a template builds with '*'
MAX_EXPONENT = 128


class TemplateFailed(NodeError):
    code = "TEMPLATE_ERROR"


def _text(value: Any) -> Any:
    """How a value reads inside text: JSON for objects, lists, booleans and null; as it is otherwise."""
    if isinstance(value, Undefined) or not (isinstance(value, (dict, list, bool)) or value is None):
        return value
    return json.dumps(value, ensure_ascii=False)


def _kind(obj: Any) -> str:
    return {dict: "a JSON object", list: "a JSON list", str: "a string"}.get(type(obj), type(obj).__name__)


class JsonSandbox(SandboxedEnvironment):
    """A sandbox where ``a.b`` and ``a["b"]`` are JSON object fields and ``a[0]`` a list item, and nothing else."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self):
        super().__init__(undefined=StrictUndefined, autoescape=False, finalize=_text, keep_trailing_newline=True)
        self.globals.clear()
        self.filters = {name: self.filters[name] for name in FILTERS}

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(obj, Undefined):
            return obj[argument]  # fails, naming what was missing first
        if isinstance(obj, dict) and isinstance(argument, str):
            if argument in obj:
                return obj[argument]
            fields = ", ".join(f"'{k}'" for k in list(obj)[:20]) or "none"
            return self.undefined(hint=f"no field '{argument}' in {_kind(obj)} (its fields: {fields})")
        if isinstance(obj, list) and isinstance(argument, int) and not isinstance(argument, bool):
            if -len(obj) <= argument < len(obj):
                return obj[argument]
            return self.undefined(hint=f"no item [{argument}] in a JSON list of {len(obj)}")
        raise SecurityError(f"a template reads only fields of JSON objects and items of JSON lists, not "
                            f"{argument!r} of {_kind(obj)}")

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self.getitem(obj, attribute)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return False

    def is_safe_callable(self, obj: Any) -> bool:
        return False

    def call(self, context, obj: Any, *args: Any, **kwargs: Any) -> Any:
        raise SecurityError("a template calls no functions or methods")

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and isinstance(right, (int, float)) and abs(right) > MAX_EXPONENT:
            raise SecurityError(f"exponents above {MAX_EXPONENT} are refused in templates")
        if operator == "*":
            size, times = (left, right) if isinstance(left, (str, list)) else (right, left)
            if isinstance(size, (str, list)) and isinstance(times, int) and len(size) * times > MAX_RESULT_ITEMS:
                raise SecurityError(f"a template may not build a string or list of more than {MAX_RESULT_ITEMS} items")
        return super().call_binop(context, operator, left, right)


ENV = JsonSandbox()


def _failure(where: str, exc: Exception, names: dict[str, Any]) -> TemplateFailed:
    if isinstance(exc, TemplateSyntaxError):
        message = f"{where}: the template is not valid: {exc.message} (line {exc.lineno})"
    elif isinstance(exc, UndefinedError):
        message = f"{where}: {exc.message}"
        missing = re.fullmatch(r"'(\w+)' is undefined", exc.message or "")
        if missing and missing.group(1) not in names:
            message += (" (connect a node's json output to the 'values' input)" if missing.group(1) == "values"
                        else f"; a template reads only {', '.join(names) or 'nothing here'}")
    elif isinstance(exc, SecurityError):
        message = f"{where}: refused: {exc}"
    else:
        message = f"{where}: the template failed: {exc}"
    return TemplateFailed(message, field=where.split("[", 1)[0].split(".", 1)[0])


def render_text(template: str, names: dict[str, Any], where: str) -> str:
    """``template`` filled from ``names`` (e.g. ``{"values": …}``) as text; a node error naming ``where`` if not."""
    if "{{" not in template and "{%" not in template:
        return template
    try:
        return ENV.from_string(template).render(names)
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise _failure(where, exc, names) from None


def render_value(value: Any, names: dict[str, Any], where: str) -> Any:
    """A JSON value with every string in it rendered; a string that is one ``{{ … }}`` becomes that JSON value."""
    if isinstance(value, dict):
        return {key: render_value(item, names, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, list):
        return [render_value(item, names, f"{where}[{i}]") for i, item in enumerate(value)]
    if not isinstance(value, str):
        return value
    whole = WHOLE_EXPRESSION.match(value)
    if not whole:
        return render_text(value, names, where)
    try:
        result = ENV.compile_expression(whole.group(1), undefined_to_none=False)(**names)
        if isinstance(result, Undefined):
            str(result)  # raises, saying what is missing
        return json.loads(json.dumps(result))
    except (TemplateError, TypeError, ValueError, ArithmeticError) as exc:
        raise _failure(where, exc, names) from None
