"""Running variants of a solution (its mutants, a task's wrong samples) under limits from the solution's own
speed: a variant that loops forever costs little. Shared by the stages that run them (``verify.mutation``,
``verify.reduce``)."""

from __future__ import annotations

from pydantic import Field

from codefoundry.judge.requests import limits_from_timing
from codefoundry.pipeline.stage import StageConfig
from codefoundry.sandbox.api import ExecResult, Limits


class VariantRunConfig(StageConfig):
    """The limits a stage runs variants under, derived from the solution's timed run."""

    time_factor: float = Field(
        20.0, gt=0, description="a variant's per-test limit = factor x the solution's slowest test"
    )
    min_test_time_s: float = Field(0.1, gt=0, description="floor of the per-test limit")
    max_time_s: float = Field(2.0, gt=0, description="ceiling of a variant's whole-suite limit")
    memory_mb: int = Field(256, gt=0)

    def variant_limits(self, timing: ExecResult) -> Limits:
        """The limits for variants of the solution whose run ``timing`` is."""
        return limits_from_timing(
            timing,
            time_factor=self.time_factor,
            min_test_time_s=self.min_test_time_s,
            max_time_s=self.max_time_s,
            memory_mb=self.memory_mb,
        )
