"""The operator reference page, rendered from the operator registry.

Everything on the page comes from the code: the class docstring (summary and description), the
pydantic parameter model (types, defaults, constraints, descriptions), the operator's ``kind``
and its ``example`` parameters. ``docs/operators.md`` is this module's output; regenerate it with::

    python -m nirsframe.reference > docs/operators.md

A test compares the committed page with :func:`render_operator_reference`.

>>> text = render_operator_reference()
>>> text.startswith("# Operator reference")
True
>>> "## `snv`" in text
True
"""

from __future__ import annotations

import inspect
import re
import sys
from typing import TYPE_CHECKING, Any

from pydantic_core import PydanticUndefined

from nirsframe.operators import REGISTRY

if TYPE_CHECKING:
    from collections.abc import Mapping

    from pydantic.fields import FieldInfo

    from nirsframe.operators import OperatorInfo

COMMAND = "python -m nirsframe.reference > docs/operators.md"

#: Order of the sections and what each kind means for the user.
KINDS: dict[str, str] = {
    "stateless": "row by row, nothing learned: `transform` needs no `fit`",
    "fitted": "learns from the training spectra in `fit` (e.g. a mean spectrum)",
    "supervised": "learns from the training spectra and their targets `y` in `fit`",
    "augmentation": (
        "train only: `transform` is the identity; `augment(X, y, n_copies=..., "
        "random_state=...)` returns seeded perturbed copies for the training rows"
    ),
}

#: Sequences longer than this are named in examples instead of written out.
_LONG = 8
_SECTION = re.compile(r"^(\w[\w ]*)\n-{3,}\s*$", re.MULTILINE)
_ROLE = re.compile(r":\w+:`~?([^`]+)`")
_QUALIFIED = re.compile(r"\b(?:typing|typing_extensions|collections\.abc|builtins)\.")


def _type_name(annotation: Any) -> str:
    """A readable type: ``int``, ``tuple[float, float]``, ``Literal['a', 'b'] | None``."""
    if isinstance(annotation, type) and not getattr(annotation, "__args__", None):
        return annotation.__name__
    text = _QUALIFIED.sub("", repr(annotation))
    return text.replace("NoneType", "None")


def _constraints(field: FieldInfo) -> str:
    """The numeric and pattern constraints of a field (``>= 0``, ``< 10``, ``pattern ...``)."""
    symbols = (("gt", ">"), ("ge", ">="), ("lt", "<"), ("le", "<="))
    parts = []
    for meta in field.metadata:
        for attr, symbol in symbols:
            value = getattr(meta, attr, None)
            if value is not None:
                parts.append(f"{symbol} {value!r}")
        pattern = getattr(meta, "pattern", None)
        if pattern is not None:
            parts.append(f"matches `{pattern}`")
    return ", ".join(parts)


def _default(field: FieldInfo) -> str:
    if field.default is PydanticUndefined:
        return "required" if field.default_factory is None else "(computed)"
    return f"`{field.default!r}`"


def _cell(text: str) -> str:
    """Table-cell safe text: no line breaks, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")


def _markdown(text: str) -> str:
    """Sphinx roles (``:class:`~a.B```) as code spans."""
    return _ROLE.sub(r"`\1`", text)


def _description(doc: str | None) -> str:
    """The docstring body after the summary line, up to the first numpydoc section."""
    body = inspect.cleandoc(doc or "").split("\n", 1)
    if len(body) < 2:
        return ""
    text = body[1]
    match = _SECTION.search(text)
    return _markdown((text[: match.start()] if match else text).strip())


def _value(value: Any, name: str) -> str:
    if isinstance(value, tuple | list) and len(value) > _LONG:
        return name
    return repr(value)


def _arguments(example: Mapping[str, Any]) -> tuple[str, list[str]]:
    """``k=v, ...`` for an example call, and set-up lines naming the long sequences."""
    setup = [
        f"{name} = ({value[0]!r}, {value[1]!r}, ..., {value[-1]!r})  # {len(value)} values"
        for name, value in example.items()
        if isinstance(value, tuple | list) and len(value) > _LONG
    ]
    args = ", ".join(f"{name}={_value(value, name)}" for name, value in example.items())
    return args, setup


def _learned_args(info: OperatorInfo) -> str:
    """``"spectra", reference=...``: the required arguments of a fitted operator's function."""
    params = inspect.signature(info.function).parameters.values()
    required = [
        f"{p.name}=..." for p in params if p.kind is p.KEYWORD_ONLY and p.default is p.empty
    ]
    return ", ".join(['"spectra"', *required])


def _example(info: OperatorInfo) -> str:
    cls = info.estimator.__name__
    args, setup = _arguments(info.estimator.example)
    expr_args = f'"spectra", {args}' if args else '"spectra"'
    lines = [
        "import nirsframe as nf",
        f"from nirsframe.operators import {cls}",
        "",
        *setup,
    ]
    if info.kind == "stateless":
        lines += [
            f"df.select(nf.{info.name}({expr_args}))",
            f"X_out = {cls}({args}).fit_transform(X)",
        ]
    elif info.kind == "augmentation":
        lines += [
            f"df.select(nf.{info.name}({expr_args}))  # exploration: one seeded copy of each row",
            f"X_out = {cls}({args}).fit_transform(X)  # the identity (predict time)",
            f"X_aug, y_aug = {cls}({args}).augment(X, y, n_copies=2, random_state=0)",
        ]
    else:
        fit = "fit(X, y)" if info.kind == "supervised" else "fit(X)"
        lines += [
            f"op = {cls}({args}).{fit}",
            'df.select(op.to_expr("spectra"))  # learned arrays baked into the expression',
            f"X_out = {cls}({args}).fit_transform(X{', y' if info.kind == 'supervised' else ''})",
            f"df.select(nf.{info.name}({_learned_args(info)}))  # learned values given explicitly",
        ]
    return "```python\n" + "\n".join(lines) + "\n```"


def _parameters(info: OperatorInfo) -> str:
    # In the order of the constructor's signature, which is what users read and call.
    order = list(inspect.signature(info.estimator.__init__).parameters)
    model_fields = info.params.model_fields
    fields = dict(
        sorted(model_fields.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 99)
    )
    if not fields:
        return "No parameters."
    rows = [
        "| parameter | type | default | constraints | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    rows += [
        f"| `{name}` | `{_cell(_type_name(field.annotation))}` | {_cell(_default(field))} "
        f"| {_cell(_constraints(field))} | {_cell(field.description or '')} |"
        for name, field in fields.items()
    ]
    return "\n".join(rows)


def _section(info: OperatorInfo) -> str:
    cls = info.estimator
    parts = [
        f"## `{info.name}`",
        f"**{cls.__name__}** (`{cls.__module__}`), kind **{info.kind}**.",
        _markdown(info.summary),
    ]
    description = _description(cls.__doc__)
    if description:
        parts.append(description)
    parts += ["### Parameters", _parameters(info), "### Example", _example(info)]
    return "\n\n".join(parts)


def _ordered() -> list[OperatorInfo]:
    rank = {kind: i for i, kind in enumerate(KINDS)}
    return sorted(REGISTRY.values(), key=lambda info: (rank[info.kind], info.name))


def render_operator_reference() -> str:
    """The markdown reference of every registered operator (the text of ``docs/operators.md``)."""
    infos = _ordered()
    head = [
        "# Operator reference",
        f"<!-- Generated from the operator registry by `{COMMAND}`; do not edit by hand. -->",
        (
            "Every operator has three faces with the same parameters: the expression "
            '`nf.<name>("spectra", ...)` (also `pl.col("spectra").nirs.<name>(...)`), the '
            "scikit-learn transformer class, and the numba kernel in `nirskern`. Kinds:"
        ),
        "\n".join(f"- **{kind}**: {text}" for kind, text in KINDS.items()),
        "| name | class | kind | summary |\n| --- | --- | --- | --- |\n"
        + "\n".join(
            f"| [`{i.name}`](#{i.name}) | `{i.estimator.__name__}` | {i.kind} "
            f"| {_cell(_markdown(i.summary))} |"
            for i in infos
        ),
    ]
    return "\n\n".join(head + [_section(info) for info in infos]) + "\n"


if __name__ == "__main__":
    sys.stdout.buffer.write(render_operator_reference().encode("utf-8"))
