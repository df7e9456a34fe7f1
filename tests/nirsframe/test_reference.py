"""The operator reference page is generated from the registry and committed up to date."""

from __future__ import annotations

from pathlib import Path

from nirsframe.operators import REGISTRY
from nirsframe.reference import COMMAND, render_operator_reference

DOCS = Path(__file__).resolve().parents[2] / "docs" / "operators.md"


def test_committed_page_equals_the_rendered_registry() -> None:
    rendered = render_operator_reference()
    committed = DOCS.read_text(encoding="utf-8") if DOCS.exists() else ""
    assert committed == rendered, (
        f"docs/operators.md is out of date with the operator registry; regenerate it with "
        f"`{COMMAND}` (from the repository root) and commit the result"
    )


def test_every_operator_has_a_section_with_both_example_forms() -> None:
    text = render_operator_reference()
    for name, info in REGISTRY.items():
        section = text.split(f"## `{name}`\n", 1)[1].split("\n## `", 1)[0]
        cls = info.estimator.__name__
        assert f"**{cls}**" in section
        assert f"kind **{info.kind}**" in section
        assert f"{cls}(" in section
        assert ".fit_transform(X" in section
        assert f"nf.{name}(" in section
        for field in info.params.model_fields:
            assert f"| `{field}` |" in section


def test_parameters_show_types_defaults_and_constraints() -> None:
    text = render_operator_reference()
    section = text.split("## `band_masking`\n", 1)[1].split("\n## `", 1)[0]
    assert "| `width` | `tuple[int, int]` | `(5, 20)` |" in section
    assert "| `random_state` | `int` | `0` | >= 0 | seed of the random draws |" in section
    assert "`Literal['zero', 'interpolate']`" in section
    assert "BandMasking(width=(3, 10), fill='interpolate').augment(X, y" in section


def test_rendering_is_deterministic() -> None:
    assert render_operator_reference() == render_operator_reference()
