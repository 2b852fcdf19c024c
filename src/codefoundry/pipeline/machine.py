"""What a run needs of this machine, checked before any work: a GPU where a stage asks for one, and the
toolchain of every sandbox language a stage's outputs need (``Resources.languages``).

Each check raises one ``UserError`` line naming the stage and what to do, so a recipe that cannot finish here
is refused at the start rather than failing every record of one stage hours in.
"""

from __future__ import annotations

import shutil
from typing import TYPE_CHECKING

from codefoundry.errors import UserError
from codefoundry.sandbox.languages import get_language, normalise_language

if TYPE_CHECKING:
    from codefoundry.pipeline.plan import PlannedStage


def check_gpu(planned: list[PlannedStage]) -> None:
    """Refuse a run with a stage that needs a GPU on a machine without one."""
    for item in planned:
        if item.cls.resources(item.config).gpu and shutil.which("nvidia-smi") is None:
            raise UserError(f"stage {item.name} needs a GPU, and this machine has none (no nvidia-smi)")


def check_toolchains(planned: list[PlannedStage]) -> None:
    """Refuse a run with a stage targeting a language the sandbox does not know, or whose toolchain is not
    installed here (the first one found, with what is missing and how to install it)."""
    for item in planned:
        for name in item.cls.resources(item.config).languages:
            language = get_language(name)
            if language is None:
                raise UserError(
                    f"stage {item.name} targets {normalise_language(name)!r}, which the sandbox cannot run"
                )
            ok, why = language.available()
            if not ok:
                raise UserError(
                    f"stage {item.name} targets {language.name}, whose toolchain is not installed here "
                    f"({why}): run `make toolchains`"
                )


def check_machine(planned: list[PlannedStage]) -> None:
    """Every check of this module, before a run starts."""
    check_gpu(planned)
    check_toolchains(planned)
