"""Allow-listed scikit-learn estimators, resolved from a class path without arbitrary imports.

>>> build_estimator("sklearn.linear_model.Ridge", {"alpha": 2.0}).alpha
2.0
"""

from __future__ import annotations

import difflib
import importlib
from typing import TYPE_CHECKING, Any

from nirsframe.exceptions import SpecError

if TYPE_CHECKING:
    from collections.abc import Mapping

#: Modules a model class path may come from (checked as a string before anything is imported).
ALLOWED_MODULES = (
    "sklearn.linear_model",
    "sklearn.cross_decomposition",
    "sklearn.svm",
    "sklearn.ensemble",
    "sklearn.neighbors",
    "sklearn.kernel_ridge",
    "sklearn.gaussian_process",
    "sklearn.tree",
)


#: nirsframe estimators a pipeline names without a module (``pls`` and ``plsda`` have their own
#: search paths); resolved from this table only, never from the name itself.
NIRSFRAME_ESTIMATORS = {"opls": ("nirsframe.models.opls", "OPLS")}


def resolve_estimator_class(path: str) -> type[Any]:
    """The estimator class at ``path`` (``module.Class``) if its module is allow-listed, or a
    name of :data:`NIRSFRAME_ESTIMATORS`.

    >>> resolve_estimator_class("opls").__name__
    'OPLS'
    """
    if path in NIRSFRAME_ESTIMATORS:
        module, name = NIRSFRAME_ESTIMATORS[path]
        found: type[Any] = getattr(importlib.import_module(module), name)
        return found
    module, _, name = path.rpartition(".")
    if module not in ALLOWED_MODULES:
        close = difflib.get_close_matches(module, ALLOWED_MODULES, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        msg = f"model {path!r} is not from an allowed module {list(ALLOWED_MODULES)}{hint}"
        raise SpecError(msg)
    cls = getattr(importlib.import_module(module), name, None)
    if not isinstance(cls, type) or not hasattr(cls, "fit"):
        msg = f"model {path!r}: {module} has no estimator class {name!r}"
        raise SpecError(msg)
    return cls


def build_estimator(path: str, params: Mapping[str, Any]) -> Any:
    """A new estimator of class ``path`` with ``params`` (unknown parameter names are errors)."""
    cls = resolve_estimator_class(path)
    valid = cls().get_params(deep=False)
    unknown = [k for k in params if k not in valid]
    if unknown:
        close = difflib.get_close_matches(unknown[0], valid, n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        msg = f"model {path!r} has no parameter {unknown[0]!r}{hint}"
        raise SpecError(msg)
    return cls(**params)
