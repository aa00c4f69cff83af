"""Drafting a workflow with an OpenAI-compatible chat endpoint, then grounding it like the planner's.

The model is shown the node catalog (each node's ports and parameter JSON Schema) and the dataset's column
profile. Its workflow must validate and run on a sample of the data; if not, it is asked once more with the
problems found, and a second failure is refused listing them.
"""

from __future__ import annotations

import json
import logging
import re

from flows.generate.dryrun import problems_of
from flows.generate.graph import layout
from flows.generate.matching import near_matches
from flows.generate.profile import Source
from flows.generate.refusals import DryRunFailed, GenerationRefused, LlmBadResponse, LlmUnavailable, \
    LlmWorkflowRejected
from flowza_core.settings import Settings
from nodes.openai_chat import ChatEndpoint, ChatFailed, ChatRefused, ChatTimeout, ChatUnreachable

log = logging.getLogger(__name__)

SYSTEM = """You design ML workflows for Flowza. A workflow is JSON:
{"name": str, "description": str,
 "nodes": [{"id": str, "type": <node type>, "parameters": {...}}],
 "connections": [{"source": node id, "sourceHandle": output port, "target": node id, "targetHandle": input port}]}
Rules:
- Use only the node types of the catalog below; parameters must follow each node's JSON Schema exactly.
- Start from the loader node given with the dataset, unchanged, with id "load".
- Use the dataset's real column names exactly as profiled; the target column is never transformed or dropped.
- Before training, every feature must be numeric without missing values: drop free-text or id columns,
  one-hot encode categorical text, impute gaps. Fit transforms before train_test_split (they are refitted on
  the training rows only). Connect train_test_split's "train" output to training nodes, its "test" output and
  the model to evaluate.
- Answer with one JSON object only: {"workflow": {...}, "explanation": "what each step does and why"}.
  If the request cannot be done with this catalog and dataset, answer {"refusal": "why"}.
"""


def catalog_text() -> str:
    from nodes.catalog import catalog

    entries = [{"type": e["type"], "category": e["category"], "description": e["description"].splitlines()[0],
                "inputs": {p["name"]: p["type"] for p in e["inputs"]},
                "outputs": {p["name"]: p["type"] for p in e["outputs"]}, "parameters": e["parameters"]}
               for e in catalog()]
    return json.dumps(entries, separators=(",", ":"))


def user_message(prompt: str, source: Source) -> str:
    dataset = {"name": source.name, "rows": len(source.frame), "loader": {"id": "load", **source.loader},
               "columns": [c.to_dict() for c in source.profile()]}
    if source.label:
        dataset["label_column"] = source.label
    return f"Request: {prompt}\n\nDataset: {json.dumps(dataset, default=str)}"


def endpoint_of(settings: Settings) -> ChatEndpoint:
    return ChatEndpoint(settings.llm_base_url, settings.llm_model, settings.llm_api_key, settings.llm_timeout_s)


def ask(endpoint: ChatEndpoint, messages: list[dict]) -> str:
    """The model's answer; a failure says which FLOWZA_LLM_* setting to check."""
    try:
        return endpoint.complete(messages, temperature=0).text
    except ChatTimeout as exc:
        raise LlmUnavailable(f"{exc.message} (FLOWZA_LLM_TIMEOUT_S): try again, or unset FLOWZA_LLM_BASE_URL to use "
                             f"the offline planner") from None
    except ChatUnreachable as exc:
        raise LlmUnavailable(f"{exc.message}; check FLOWZA_LLM_BASE_URL, or unset it to use the offline "
                             f"planner") from None
    except ChatRefused as exc:
        raise LlmBadResponse(f"{exc.message}: check FLOWZA_LLM_API_KEY") from None
    except ChatFailed as exc:
        raise LlmBadResponse(exc.message) from None


def parse_answer(text: str) -> tuple[dict | None, str, list[str]]:
    """(workflow, explanation, problems) from the model's text; a refusal it states is raised."""
    cleaned = re.sub(r"^\s*```(?:json)?\s*|\s*```\s*$", "", text or "", flags=re.I)
    try:
        found = json.loads(cleaned)
    except ValueError:
        start, end = cleaned.find("{"), cleaned.rfind("}")
        try:
            found = json.loads(cleaned[start:end + 1]) if 0 <= start < end else None
        except ValueError:
            found = None
    if not isinstance(found, dict):
        return None, "", ["the answer is not one JSON object"]
    if isinstance(found.get("refusal"), str):
        raise GenerationRefused(f"the LLM declined: {found['refusal'][:500]}", field="prompt")
    workflow = found.get("workflow", found if "nodes" in found else None)
    if not isinstance(workflow, dict):
        return None, "", ["the answer has no 'workflow' object"]
    explanation = found.get("explanation")
    return workflow, explanation if isinstance(explanation, str) else "", []


def ground(workflow: dict, source: Source) -> tuple[dict, list[str], list[str]]:
    """(workflow, problems, warnings): the loader set to the chosen dataset, target columns checked, laid out."""
    workflow = dict(workflow)
    if "connections" not in workflow and isinstance(workflow.get("edges"), list):
        workflow["connections"] = workflow.pop("edges")
    nodes = workflow.get("nodes")
    if not isinstance(nodes, list) or not all(isinstance(n, dict) for n in nodes):
        return workflow, ["'nodes' must be a list of node objects"], []
    from nodes.catalog import discover

    problems, warnings, registry = [], [], discover()
    loaders = [n for n in nodes if getattr(registry.get(n.get("type")), "category", None) == "data input"]
    if len(loaders) != 1:
        problems.append(f"the workflow needs exactly one data input node (id 'load', {source.loader}); it has "
                        f"{len(loaders)}")
    elif {k: loaders[0].get(k) for k in ("type", "parameters")} != source.loader:
        warnings.append(f"the LLM's loader node '{loaders[0].get('id')}' was set to read {source.name}")
        loaders[0].update(type=source.loader["type"], parameters=dict(source.loader["parameters"]))
    for node in nodes:
        params = node.get("parameters") if isinstance(node.get("parameters"), dict) else {}
        target = params.get("target_column")
        if isinstance(target, str) and target not in source.columns:
            close = near_matches(target, source.columns)
            problems.append(f"node '{node.get('id')}': target_column '{target}' is not a column of {source.name}"
                            + (f"; near matches: {', '.join(close)}" if close else
                               f"; columns: {', '.join(source.columns[:30])}"))
    workflow.setdefault("name", "Generated workflow")
    if not problems:
        plan, problems = problems_of(workflow)
        if plan is not None:
            spec = plan.spec.to_json_dict()
            workflow["nodes"] = layout([{k: v for k, v in n.items() if k != "position"} for n in spec["nodes"]],
                                       spec["connections"])
            workflow["connections"] = spec["connections"]
    return workflow, problems, warnings


def generate_with_llm(prompt: str, source: Source, settings: Settings):
    """Ask the endpoint, ground and check its workflow; ask once more with the problems; else refuse."""
    from flows.generate import Generated, checked

    endpoint = endpoint_of(settings)
    messages = [{"role": "system", "content": SYSTEM + "\nCatalog: " + catalog_text()},
                {"role": "user", "content": user_message(prompt, source)}]
    first_problems: list[str] = []
    for attempt in (1, 2):
        text = ask(endpoint, messages)
        workflow, explanation, problems = parse_answer(text)
        warnings: list[str] = []
        if workflow is not None:
            workflow, problems, warnings = ground(workflow, source)
        if not problems:
            try:
                warnings += checked(workflow, source)
            except DryRunFailed as exc:
                problems = [exc.message]
        if not problems:
            if first_problems:
                warnings.insert(0, "the LLM's first draft was repaired: " + "; ".join(first_problems[:5]))
            note = f"Drafted by {settings.llm_model}; validated and run on a sample of {source.name}."
            return Generated(workflow, f"{explanation} {note}".strip(), warnings)
        log.info("LLM answer %d rejected: %s", attempt, problems)
        first_problems = problems
        messages += [{"role": "assistant", "content": text},
                     {"role": "user", "content": "That workflow has these problems:\n" + "\n".join(
                         f"- {p}" for p in problems) + "\nAnswer again with the whole corrected JSON object."}]
    raise LlmWorkflowRejected(first_problems)
