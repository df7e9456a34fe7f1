"""Pipeline specifications: typed documents, generator expansion, canonical hashing.

>>> from nirsframe.pipeline import load_pipeline, expand
>>> steps = [{"_or_": [{"snv": {}}, {"msc": {}}]}]
>>> [v.label for v in expand(load_pipeline({"name": "p", "target": "y", "steps": steps}))]
['snv', 'msc']
"""

from nirsframe.pipeline.generators import (
    GENERATOR_KEYS,
    Expansion,
    compile_value,
    count_values,
    expand_value,
    has_generator,
)
from nirsframe.pipeline.spec import (
    DEFAULT_VARIANT_CAP,
    MODELS,
    RESERVED_KEYWORDS,
    Y_PROCESSORS,
    GeneratorStep,
    ModelStep,
    OperatorStep,
    Pipeline,
    Step,
    Variant,
    YProcessingStep,
    canonical_json,
    expand,
    load_pipeline,
    parse_step,
    pipeline_hash,
)

__all__ = [
    "DEFAULT_VARIANT_CAP",
    "GENERATOR_KEYS",
    "MODELS",
    "RESERVED_KEYWORDS",
    "Y_PROCESSORS",
    "Expansion",
    "GeneratorStep",
    "ModelStep",
    "OperatorStep",
    "Pipeline",
    "Step",
    "Variant",
    "YProcessingStep",
    "canonical_json",
    "compile_value",
    "count_values",
    "expand",
    "expand_value",
    "has_generator",
    "load_pipeline",
    "parse_step",
    "pipeline_hash",
]
