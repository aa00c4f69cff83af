"""The built-in, offline planner: a prompt's intent mapped onto the node catalog, grounded in the real columns.

It adds what training needs but the prompt did not say (drop unusable columns, fill gaps, encode text) and
says so in the explanation, so the workflow runs as offered.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from flows.generate.columns import slug, unusable
from flows.generate.graph import Graph
from flows.generate.intent import Intent, label_words
from flows.generate.matching import content_words, find_column, near_matches, stem, words
from flows.generate.profile import Source, kind_of
from flows.generate.refusals import ColumnNotFound, GenerationRefused, NoTarget, TaskMismatch
from nodes.train import infer_task

log = logging.getLogger(__name__)
TEMPLATES = Path(__file__).resolve().parents[2] / "examples"
MODEL_NAMES = {"train_logreg": "logistic regression", "train_xgboost": "XGBoost", "train_random_forest":
               "random forest", "train_linear_regression": "linear regression"}
SHORT = {"train_logreg": "logreg", "train_xgboost": "xgboost", "train_random_forest": "forest",
         "train_linear_regression": "linear"}
DEFAULT_MODEL = {"classification": "train_logreg", "regression": "train_linear_regression"}
COMPARED = {"classification": ["train_logreg", "train_random_forest", "train_xgboost"],
            "regression": ["train_linear_regression", "train_random_forest", "train_xgboost"]}
GUESSED_LABELS = ["target", "label", "class", "y", "outcome"]
SAMPLE_ROWS = 200


@dataclass
class Plan:
    """The workflow the planner drew, why each step is there, and what the user should know."""

    workflow: dict
    steps: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def column(phrase: str, source: Source) -> str:
    """The real column a phrase names, or a refusal listing near matches."""
    found = find_column(phrase, source.columns)
    if found is None:
        said = content_words(phrase)
        raise ColumnNotFound(said, source.name, near_matches(said, source.columns), source.columns)
    return found


def droppable(phrase: str, source: Source, warnings: list[str]) -> str | None:
    """The real column a 'drop …' phrase names; one the dataset lacks is already gone: a warning says so."""
    found = find_column(phrase, source.columns)
    if found is None:
        said = content_words(phrase)
        close = near_matches(said, source.columns)
        hint = f" (near matches: {', '.join(map(repr, close))})" if close else ""
        warnings.append(f"the dataset {source.name} has no column '{said}'{hint}: nothing to drop for it")
    return found


def _names_dataset(phrase: str, source: Source) -> bool:
    said = {stem(w) for w in words(content_words(phrase))}
    return bool(said) and said <= {stem(w) for w in words(source.name) + ["data", "dataset"]}


def resolve_target(intent: Intent, source: Source) -> str:
    """The column to predict: named in the prompt (fuzzy), else the sample's label, else a column named like one."""
    phrase = intent.target_phrase
    if phrase and not _names_dataset(phrase, source):
        found = find_column(phrase, source.columns)
        if found is not None:
            return found
        said = content_words(phrase)
        if not (source.label and {stem(w) for w in words(said)} & label_words()):
            raise ColumnNotFound(said, source.name, near_matches(said, source.columns), source.columns)
    if source.label in source.columns:
        return source.label
    for guess in GUESSED_LABELS:
        found = [c for c in source.columns if c.lower() == guess]
        if found:
            return found[0]
    raise NoTarget(f"say which column to predict, e.g. 'predict {source.columns[-1]}'; the columns of "
                   f"{source.name} are: {', '.join(source.columns[:30])}", field="prompt")


def choose_task(intent: Intent, target: str, y: pd.Series) -> str:
    """Classification or regression, from the target's values; a contradiction with the prompt is refused."""
    inferred = infer_task(y)
    numeric = kind_of(y) == "number"
    if intent.task == "regression" or (intent.models and all(m == "train_linear_regression" for m in intent.models)):
        if not numeric:
            shown = ", ".join(repr(v) for v in y.unique()[:3])
            raise TaskMismatch(f"'{target}' holds {'text' if kind_of(y) == 'text' else 'true/false'} values "
                               f"({shown}): a regression predicts numbers; ask for a classifier (logistic "
                               f"regression, random forest or XGBoost) instead", field="prompt")
        return "regression"
    if intent.task == "classification" or "train_logreg" in intent.models:
        if inferred == "regression" and numeric and not (y % 1 == 0).all():
            raise TaskMismatch(f"'{target}' holds continuous numbers ({y.nunique()} distinct values): it is a "
                               f"regression target, not classes; ask for a regression (linear regression, random "
                               f"forest or XGBoost) instead", field="prompt")
        return "classification"
    return inferred


def choose_models(intent: Intent, task: str, target: str) -> list[str]:
    models = list(intent.models)
    if task == "classification" and "train_linear_regression" in models:
        raise TaskMismatch(f"linear regression predicts numbers, but '{target}' holds classes: ask for logistic "
                           f"regression, a random forest or XGBoost", field="prompt")
    if task == "regression" and "train_logreg" in models:
        raise TaskMismatch(f"logistic regression predicts classes, but '{target}' is a regression target: ask for "
                           f"linear regression, a random forest or XGBoost", field="prompt")
    if intent.compare and len(models) < 2:
        return COMPARED[task]
    return models or [DEFAULT_MODEL[task]]


def _can_stratify(y: pd.Series, test_size: float) -> bool:
    """Every class has two rows or more, in the data and in a sample of it, and the test part holds each class."""
    counts = y.value_counts()
    sample = min(len(y), SAMPLE_ROWS)
    smallest_in_sample = counts.min() * sample / len(y)
    return bool(counts.min() >= 2 and smallest_in_sample >= 2 and int(sample * test_size) >= len(counts))


def require_something(intent: Intent) -> None:
    if not intent.predictive and not intent.cleaning:
        raise GenerationRefused("the prompt asks for nothing a workflow here can do: say what to predict (e.g. "
                                "'predict survived from titanic with xgboost') or how to clean the data (drop, "
                                "fill, encode, normalize)", field="prompt")


def plan(intent: Intent, source: Source) -> Plan:
    """Draw the workflow for ``intent`` on ``source``; raises a ``GenerationRefused`` when it cannot."""
    frame, out = source.frame, Plan(workflow={})
    g = Graph()
    last = g.add("load", source.loader["type"], dict(source.loader["parameters"]), f"Load {source.name}")
    out.steps.append(f"Reads {source.name} ({len(frame):,} rows, {frame.shape[1]} columns).")
    require_something(intent)
    target = task = None
    models: list[str] = []
    if intent.predictive:
        target = resolve_target(intent, source)
        y = frame[target].dropna()
        if y.empty:
            raise NoTarget(f"the target '{target}' has no values", field="prompt")
        task = choose_task(intent, target, y)
        models = choose_models(intent, task, target)
        out.steps.append(f"Predicts '{target}': {task} ({y.nunique()} distinct values).")
    asked_drop = [c for p in intent.drop_phrases if (c := droppable(p, source, out.warnings))]
    if target in asked_drop:
        raise GenerationRefused(f"'{target}' is the column to predict: it cannot be dropped too", field="prompt")
    imputes = [(i, [column(p, source) for p in i.phrases]) for i in intent.imputes]
    null_subset = [column(p, source) for p in intent.drop_nulls or []]
    one_hot = [column(p, source) for p in intent.one_hot or []]
    kept = {c for _, cols in imputes for c in cols} | set(one_hot) | set(null_subset)

    if target is not None and frame[target].isna().any():
        last = g.add("drop_missing_target", "drop_nulls", {"subset": [target]}, "Drop rows without a target", last)
        out.steps.append(f"Drops the {int(frame[target].isna().sum())} rows where '{target}' is missing "
                         f"(a model cannot learn from them).")
    auto_drop = unusable(frame.drop(columns=asked_drop), target, kept) if intent.predictive else {}
    dropped = asked_drop + [c for c in auto_drop if c not in asked_drop]
    if dropped:
        last = g.add("drop_columns", "drop_columns", {"columns": dropped}, "Drop columns", last)
        if asked_drop:
            out.steps.append(f"Drops {', '.join(map(repr, asked_drop))} as asked.")
        for name, why in auto_drop.items():
            out.warnings.append(f"dropped '{name}': {why}")
        if auto_drop:
            out.steps.append(f"Drops {', '.join(map(repr, auto_drop))} automatically (see the warnings).")
    rest = frame.drop(columns=dropped)
    features = [c for c in rest.columns if c != target]
    if intent.predictive and not features:
        raise GenerationRefused(f"no feature columns are left to learn '{target}' from", field="prompt")

    if intent.drop_nulls is not None:
        params = {"subset": null_subset} if null_subset else {}
        last = g.add("drop_nulls", "drop_nulls", params, "Drop rows with missing values", last)
        where = f" in {', '.join(map(repr, null_subset))}" if null_subset else ""
        out.steps.append(f"Drops rows with missing values{where} as asked.")
        if not null_subset:
            rest = rest.dropna()
        else:
            rest = rest.dropna(subset=null_subset)
    filled: set[str] = set()
    for asked, cols in imputes:
        cols = cols or [c for c in features if rest[c].isna().any()]
        last = _impute(g, last, rest, cols, asked.strategy, asked.fill_value, out, "as asked")
        filled |= set(cols)
    gaps = [c for c in features if c not in filled and rest[c].isna().any()]
    if gaps and intent.predictive:
        last = _impute(g, last, rest, gaps, "median", None, out,
                       "automatically, so training gets no missing values")
    text = [c for c in features if kind_of(rest[c]) == "text"]
    if intent.one_hot is not None or (text and intent.predictive):
        encode = one_hot or text
        if encode:
            last = g.add("one_hot", "one_hot_encode", {"columns": encode}, "One-hot encode", last)
            why = "as asked" if intent.one_hot is not None else "automatically: models learn from numbers only"
            out.steps.append(f"One-hot encodes {', '.join(map(repr, encode))} {why}.")
        else:
            out.warnings.append("one-hot encoding was asked, but no text column is left to encode: skipped")
    if intent.normalize or (intent.predictive and "train_logreg" in models):
        method = intent.normalize or "standard"
        last = g.add("normalize", "normalize", {"method": method}, "Normalize", last)
        why = "as asked" if intent.normalize else "(logistic regression converges better on scaled features)"
        out.steps.append(f"Scales numeric features ({method}) {why}; the scaler learns from training rows only.")

    name = f"Clean {source.name}"
    if intent.predictive:
        _model_part(g, last, intent, source, target, task, models, out)
        shown = " vs ".join(MODEL_NAMES[m] for m in models)
        name = f"Predict {target} ({source.name}, {shown})"
    closest = closest_template([n["type"] for n in g.nodes], source.loader.get("parameters", {}).get("name"),
                               task)
    if closest:
        out.steps.append(f"The closest template in the gallery is '{closest}'.")
    out.workflow = g.workflow(name, f"Generated from the prompt: {intent.prompt.strip()[:500]}")
    return out


def _impute(g: Graph, last: str, frame: pd.DataFrame, cols: list[str], strategy: str, fill_value, out: Plan,
            why: str) -> str:
    """Impute nodes for ``cols``: numbers with ``strategy``, text with its most frequent value."""
    numbers = [c for c in cols if kind_of(frame[c]) == "number"]
    others = [c for c in cols if c not in numbers]
    if strategy in ("mean", "median") and numbers:
        last = g.add("impute", "impute", {"strategy": strategy, "columns": numbers}, f"Fill gaps ({strategy})", last)
        out.steps.append(f"Fills missing {', '.join(map(repr, numbers))} with the {strategy} of the training rows "
                         f"{why}.")
    elif numbers:
        params = {"strategy": strategy, "columns": numbers} | ({"fill_value": fill_value} if fill_value is not None
                                                                 else {})
        last = g.add("impute", "impute", params, f"Fill gaps ({strategy})", last)
        out.steps.append(f"Fills missing {', '.join(map(repr, numbers))} ({strategy}) {why}.")
    if others:
        last = g.add("impute_text", "impute", {"strategy": "most_frequent", "columns": others},
                     "Fill gaps (most frequent)", last)
        out.steps.append(f"Fills missing {', '.join(map(repr, others))} with their most frequent value {why}.")
    return last


def _model_part(g: Graph, last: str, intent: Intent, source: Source, target: str, task: str, models: list[str],
                out: Plan) -> None:
    test_size = intent.test_size if intent.test_size and 0.05 <= intent.test_size <= 0.5 else 0.2
    stratify = task == "classification" and _can_stratify(source.frame[target].dropna(), test_size)
    split = g.add("split", "train_test_split", {"target_column": target, "test_size": test_size, "stratify": stratify,
                                                "random_state": 42}, "Split", last)
    out.steps.append(f"Holds out {test_size:.0%} of the rows for testing{' (stratified by class)' if stratify else ''}"
                     f"; every transform before the split learns from the training rows only.")
    name, alias = intent.register or (None, None)
    base = slug(name or f"{source.name}-{target}")
    for model in models:
        params = {"task": task} if model in ("train_xgboost", "train_random_forest") else {}
        train = g.add(SHORT[model], model, params, MODEL_NAMES[model].capitalize(), split, source_handle="train",
                      target_handle="train")
        evaluate = g.add(f"evaluate_{SHORT[model]}" if len(models) > 1 else "evaluate", "evaluate", {},
                         f"Evaluate {MODEL_NAMES[model]}", train, target_handle="model")
        g.connect(split, evaluate, "test", "test")
        if intent.register:
            reg_name = base if len(models) == 1 else f"{base}-{SHORT[model]}"
            params = {"name": reg_name} | ({"alias": alias} if alias else {})
            g.add(f"register_{SHORT[model]}" if len(models) > 1 else "register", "register_model", params,
                  f"Register {reg_name}", train)
    if len(models) > 1:
        out.steps.append(f"Trains {', '.join(MODEL_NAMES[m] for m in models)} on the same split and evaluates each, "
                         f"so their metrics compare directly.")
    else:
        out.steps.append(f"Trains {MODEL_NAMES[models[0]]} and evaluates it on the held-out rows.")
    if intent.register:
        out.steps.append(f"Registers the model{'s' if len(models) > 1 else ''} as '{base}'"
                         f"{'-<model>' if len(models) > 1 else ''}{f' with alias {alias!r}' if alias else ''}.")


def closest_template(types: list[str], sample: str | None = None, task: str | None = None) -> str | None:
    """The shipped template (examples/*.json) whose node types overlap these the most (its sample breaks ties).

    A template that says it does the other task ("Regression: …" for a classification) is never offered.
    """
    other = {"classification": "regression", "regression": "classification"}.get(task or "")
    best, score = None, 0.0
    for path in sorted(TEMPLATES.glob("*.json")):
        try:
            template = json.loads(path.read_text(encoding="utf-8"))
            nodes = template.get("nodes", [])
            theirs = {n["type"] for n in nodes}
            same_data = any(n.get("parameters") == {"name": sample} for n in nodes)
            named = f"{template.get('name', '')} {template.get('description', '')}".lower()
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            log.warning("template %s is unreadable", path, exc_info=True)
            continue
        if other and other in re.sub(r"(logistic|linear) regression", "", named):
            continue
        overlap = len(theirs & set(types)) / len(theirs | set(types)) if theirs else 0
        if overlap + 0.25 * same_data > score:
            best, score = template.get("name") or path.stem, overlap + 0.25 * same_data
    return best if score >= 0.6 else None
