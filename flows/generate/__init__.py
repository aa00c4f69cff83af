"""Prompt -> workflow: a sentence becomes a workflow grounded in a dataset's real columns, checked before offered.

Offline by default (``planner``); with FLOWZA_LLM_BASE_URL and FLOWZA_LLM_MODEL set, an OpenAI-compatible
endpoint drafts it (``llm``). Either way the result validates and runs on a sample of the data, or is refused.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from flows.generate import intent as intents
from flows.generate import planner
from flows.generate.dryrun import dry_run, problems_of
from flows.generate.matching import stem, words
from flows.generate.profile import Source, sample_source
from flows.generate.refusals import DryRunFailed, GenerationRefused, LlmUnavailable, NoDataset
from flowza_core.errors import FlowzaError
from flowza_core.settings import get_settings

log = logging.getLogger(__name__)
MAX_PROMPT = 2000
SAMPLE_ALIASES = {"mnist": "digits", "cancer": "breast_cancer", "tumor": "breast_cancer", "tumour": "breast_cancer",
                  "house": "housing", "houses": "housing"}


@dataclass(frozen=True)
class Generated:
    workflow: dict
    explanation: str
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {"workflow": self.workflow, "explanation": self.explanation, "warnings": list(self.warnings)}


def named_sample(prompt: str) -> str | None:
    """The first shipped sample (``nodes.samples.SAMPLES``) the prompt names, e.g. "titanic", "breast cancer"."""
    from nodes.samples import SAMPLES

    said = [stem(w) for w in words(prompt)]
    found = []
    for name in SAMPLES:
        mine = [stem(w) for w in words(name)]
        for i in range(len(said) - len(mine) + 1):
            if said[i:i + len(mine)] == mine:
                found.append((i, name))
                break
    for i, word in enumerate(words(prompt)):
        if SAMPLE_ALIASES.get(word) in SAMPLES:
            found.append((i, SAMPLE_ALIASES[word]))
    return min(found)[1] if found else None


def source_for(prompt: str, source: Source | None) -> Source:
    if source is not None:
        return source
    name = named_sample(prompt)
    if name is None:
        from nodes.samples import SAMPLES

        raise NoDataset(f"no dataset to build on: choose an uploaded dataset, or name one of the samples shipped "
                        f"with Flowza in the prompt ({', '.join(SAMPLES)})", field="dataset_id")
    return sample_source(name)


def check_prompt(prompt: str) -> str:
    prompt = (prompt or "").strip()
    if not prompt:
        raise GenerationRefused("the prompt is empty: describe the pipeline, e.g. 'predict survived from titanic "
                                "with xgboost, fill missing ages'", field="prompt")
    if len(prompt) > MAX_PROMPT:
        raise GenerationRefused(f"the prompt is {len(prompt)} characters long; at most {MAX_PROMPT}", field="prompt")
    return prompt


def checked(workflow: dict, source: Source) -> list[str]:
    """Validate and dry-run ``workflow``; return its nodes' warnings as sentences, or raise ``DryRunFailed``."""
    plan, problems = problems_of(workflow)
    if plan is None:
        raise DryRunFailed("the generated workflow is not valid: " + "; ".join(problems), field="prompt")
    try:
        warned = dry_run(plan, source.frame)
    except FlowzaError as exc:
        where = f"node '{exc.node_id}' " if exc.node_id else ""
        raise DryRunFailed(f"the generated workflow failed on a sample of the data, so it is not offered: "
                           f"{where}{exc.message}", node_id=exc.node_id, field="prompt") from exc
    return [f"{w['node_id']}: {w['message']}" for w in warned]


def generate_workflow(prompt: str, source: Source | None = None) -> Generated:
    """A workflow for ``prompt`` on ``source`` (default: the shipped sample the prompt names).

    Raises a ``GenerationRefused`` subclass saying why when the prompt cannot become a workflow that runs.
    """
    prompt = check_prompt(prompt)
    settings = get_settings()
    if settings.llm_base_url:
        from flows.generate.llm import generate_with_llm

        if not settings.llm_model:
            raise LlmUnavailable("FLOWZA_LLM_BASE_URL is set but FLOWZA_LLM_MODEL is not: name the chat model to "
                                 "ask, or unset FLOWZA_LLM_BASE_URL to use the offline planner")

        return generate_with_llm(prompt, source_for(prompt, source), settings)
    wanted = intents.parse(prompt)
    planner.require_something(wanted)
    source = source_for(prompt, source)
    drawn = planner.plan(wanted, source)
    warnings = drawn.warnings + checked(drawn.workflow, source)
    log.info("generated %d nodes for a prompt of %d characters", len(drawn.workflow["nodes"]), len(prompt))
    return Generated(drawn.workflow, " ".join(drawn.steps), warnings)
