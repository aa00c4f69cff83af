"""Why a prompt did not become a workflow: each refusal has a stable code and says what to do instead."""

from __future__ import annotations

from flowza_core.errors import FlowzaError


class GenerationRefused(FlowzaError):
    """The prompt asks for something no workflow of the catalog can do, or says too little."""

    code = "PROMPT_NOT_UNDERSTOOD"


class NoDataset(GenerationRefused):
    code = "NO_DATASET"


class NoTarget(GenerationRefused):
    code = "NO_TARGET"


class TaskMismatch(GenerationRefused):
    """The asked model or task does not fit the target's values (a regression on text…)."""

    code = "TASK_MISMATCH"


class ColumnNotFound(GenerationRefused):
    """The prompt names a column the dataset does not have; ``near_matches`` are the closest real ones."""

    code = "COLUMN_NOT_FOUND"

    def __init__(self, phrase: str, dataset: str, near_matches: list[str], columns: list[str]):
        if near_matches:
            hint = "near matches: " + ", ".join(f"'{c}'" for c in near_matches)
        else:
            hint = "its columns are: " + ", ".join(f"'{c}'" for c in columns[:30])
        super().__init__(f"the dataset {dataset} has no column '{phrase}'; {hint}", field="prompt")
        self.phrase, self.near_matches = phrase, near_matches

    def to_dict(self) -> dict:
        return super().to_dict() | {"column": self.phrase, "near_matches": self.near_matches}


class DryRunFailed(GenerationRefused):
    """The generated workflow failed on a sample of the data, so it is not offered."""

    code = "DRY_RUN_FAILED"


class LlmUnavailable(FlowzaError):
    """The configured LLM endpoint did not answer (down, timed out)."""

    code = "LLM_UNAVAILABLE"


class LlmBadResponse(FlowzaError):
    """The LLM endpoint answered, but not as an OpenAI-compatible chat completion."""

    code = "LLM_BAD_RESPONSE"


class LlmWorkflowRejected(FlowzaError):
    """The LLM's workflow stayed invalid after one repair; ``problems`` are what was wrong with the last answer."""

    code = "LLM_WORKFLOW_INVALID"

    def __init__(self, problems: list[str]):
        listed = "; ".join(problems[:8]) + (f" (and {len(problems) - 8} more)" if len(problems) > 8 else "")
        super().__init__(f"the LLM's workflow was still invalid after one repair, so it is not offered: {listed}; "
                         f"rephrase the prompt or build the workflow in the editor")
        self.problems = problems

    def to_dict(self) -> dict:
        return super().to_dict() | {"problems": self.problems}
