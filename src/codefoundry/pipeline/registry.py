"""Every stage the pipeline has, by class path; a stage's kind is written once, on its class.

Stage modules are imported when a recipe is loaded (not for ``--help``); the kind -> class map is built
from the classes themselves, so a kind cannot disagree with its registry entry.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from codefoundry.pipeline.stage import Stage

# In the order data flows: sources, synthesizers, test builders, verifiers, filters.
STAGES: tuple[str, ...] = (
    "codefoundry.mine.functions:MineFunctions",
    "codefoundry.read.tasks:ReadTasks",
    "codefoundry.read.instructions:ReadInstructions",
    "codefoundry.read.snippets:ReadSnippets",
    "codefoundry.mine.tasks:MakeTasks",
    "codefoundry.synth.oss_instruct:OssInstruct",
    "codefoundry.synth.self_instruct:SelfInstruct",
    "codefoundry.synth.evol_instruct:EvolInstruct",
    "codefoundry.synth.implement:Implement",
    "codefoundry.synth.textbook:Textbook",
    "codefoundry.synth.solutions:SampleSolutions",
    "codefoundry.testgen.mined:BuildMinedTests",
    "codefoundry.testgen.pool:BuildInputs",
    "codefoundry.testgen.teacher:TeacherInputsStage",
    "codefoundry.verify.reference:VerifyReference",
    "codefoundry.verify.dual:DualVerify",
    "codefoundry.verify.mutation:MutationGate",
    "codefoundry.verify.reduce:ReduceSuite",
    "codefoundry.verify.candidates:VerifyCandidates",
    "codefoundry.filter.dedup:OnePerTask",
    "codefoundry.filter.near_dedup:NearDedup",
)


def load_stage(path: str) -> type[Stage[Any, Any]]:
    module_name, _, class_name = path.partition(":")
    return getattr(importlib.import_module(module_name), class_name)


def stage_classes(paths: Iterable[str] | None = None) -> dict[str, type[Stage[Any, Any]]]:
    """kind -> stage class for every registered stage (``paths`` defaults to ``STAGES``)."""
    classes: dict[str, type[Stage[Any, Any]]] = {}
    for path in STAGES if paths is None else paths:
        cls = load_stage(path)
        if cls.kind in classes:
            raise RuntimeError(f"stage kind {cls.kind!r} is registered twice ({path})")
        classes[cls.kind] = cls
    return classes
