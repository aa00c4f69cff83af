"""A validated workflow as plain Python: one cell of code per node, in dependency order.

The code does what the engine does, with pandas, scikit-learn and XGBoost only. A table is carried as
three variables: the rows (``load``), the loader's raw rows they came from, and the fitted steps that made
them (``load_steps``). Steps before a split are fitted on all rows there, which picks the rows the split
sees; the split fits them again on its training rows only, as a scikit-learn ``Pipeline``, and transforms
both parts with that fit. Training nodes fit their estimator on the training table; ``evaluate`` scores
the test rows and computes the run's metrics with the same scikit-learn calls.
"""

from __future__ import annotations

import inspect
import keyword
import re

from flows.export import standalone_steps
from flows.export.model_cells import ModelCells
from flows.export.parts import Built, Cell, Fitted, Table, constructor_call, defaults_of
from flows import uploads
from flows.validation import Plan
from flowza_core.settings import get_settings
from nodes import metrics, samples
from nodes.train import infer_task

SKLEARN_SAMPLES = {"iris": "load_iris", "digits": "load_digits", "wine": "load_wine",
                   "breast_cancer": "load_breast_cancer", "diabetes": "load_diabetes"}
RESERVED = {"pd", "np", "ptypes", "skm", "json", "joblib", "Path", "DATA", "MODEL_DIR", "CLASSIFICATION",
            "REGRESSION", "metrics", "features", "apply", "through", "infer_task", "positive_class",
            "classification_metrics", "regression_metrics", "clone", "Pipeline", "train_test_split", "datasets",
            "task", "pred", "proba", "y_test", "y_fit", "X", "X_train", "y_train", "train_pos", "test_pos"}
STEP_NODES = {"drop_nulls", "drop_columns", "impute", "normalize", "one_hot_encode", "select_features",
              "filter_rows", "preprocess"}


def variable_names(ids: list[str]) -> dict[str, str]:
    """A Python identifier per node id, unique and clear of the script's own names."""
    names: dict[str, str] = {}
    for node_id in ids:
        base = re.sub(r"\W+", "_", node_id).strip("_").lower() or "node"
        if base[0].isdigit() or keyword.iskeyword(base) or base in RESERVED:
            base = f"node_{base}"
        name, n = base, 1
        while name in names.values():
            n += 1
            name = f"{base}_{n}"
        names[node_id] = name
    return names


class Exporter(ModelCells):
    def __init__(self, plan: Plan):
        self.plan = plan
        self.vars = variable_names(plan.order)
        self.tables: dict[tuple[str, str], Table] = {}
        self.models: dict[tuple[str, str], Fitted] = {}
        self.out = Built()

    def run(self) -> Built:
        for node_id in self.plan.order:
            defn = self.plan.defs[node_id]
            handler = getattr(self, f"_{defn.type}", None)
            if handler is None and defn.type in STEP_NODES:
                handler = self._step_node
            code = handler(node_id) if handler else self._stub(node_id)
            title = f"{self.plan.label(node_id)} ({defn.type})"
            text = defn.description.splitlines()[0]
            if handler is None:
                text = f"**Not exported:** Flowza's `{defn.type}` node has no plain-Python version here; " \
                       f"the stub below raises. {text}"
            self.out.cells.append(Cell(title, text, code))
        return self.out

    # --- helpers ---
    def _input(self, node_id: str, port: str):
        source = self.plan.inputs[node_id].get(port)
        if source is None:
            return None
        return self.tables.get(source) or self.models.get(source)

    def _params(self, node_id: str):
        return self.plan.params[node_id]

    def _protected(self, node_id: str) -> tuple:
        return tuple(sorted(self.plan.protected[node_id]))

    # --- data input ---
    def _sample_dataset(self, node_id: str) -> str:
        name, v = self._params(node_id).name, self.vars[node_id]
        self.tables[(node_id, "dataset")] = Table(v, v, "[]")
        if name in SKLEARN_SAMPLES:
            self.out.uses.add("datasets")
            return (f"{v} = datasets.{SKLEARN_SAMPLES[name]}(as_frame=True).frame.reset_index(drop=True)"
                    f"  # shipped with scikit-learn")
        self.out.data[node_id] = (str(samples.shipped_file(name)),
                                  f"{self.plan.label(node_id)}: the {name!r} sample shipped with Flowza")
        return f"{v} = pd.read_csv(DATA[{node_id!r}])"

    def _csv_loader(self, node_id: str) -> str:
        p, v = self._params(node_id), self.vars[node_id]
        settings = get_settings()
        path = (uploads.location(uploads.settings_store(), p.dataset_id) if p.dataset_id
                else str(settings.data_root / p.file_path))
        self.out.data[node_id] = (path, self.plan.label(node_id) + (
            f": dataset {p.dataset_id!r} uploaded to Flowza" if p.dataset_id else f": {p.file_path}"))
        options = {"sep": (p.separator, ","), "encoding": (p.encoding, "utf-8"),
                   "header": (0 if p.has_header else None, 0), "na_values": (p.na_values or None, None),
                   "skipinitialspace": (p.skip_initial_space, False)}
        args = "".join(f", {k}={value!r}" for k, (value, default) in options.items() if value != default)
        code = f"{v} = pd.read_csv(DATA[{node_id!r}]{args})"
        if p.column_names:
            code += f"\n{v}.columns = {list(p.column_names)!r}"
        elif not p.has_header:
            code += f"\n{v}.columns = [f\"column_{{i + 1}}\" for i in range(len({v}.columns))]"
        else:
            code += f"\n{v}.columns = [str(name) for name in {v}.columns]"
        self.tables[(node_id, "dataset")] = Table(v, v, "[]")
        return code

    # --- table steps ---
    def _steps_of(self, node_id: str) -> list[tuple[str, str]]:
        """(step name, constructor) pairs for a table-step node."""
        p, protected = self._params(node_id), self._protected(node_id)
        kind, step = self.plan.defs[node_id].type, None
        S = standalone_steps
        if kind == "drop_nulls":
            step = constructor_call("DropNulls", {"subset": p.subset, "how": p.how}, defaults_of(S.DropNulls))
        elif kind == "drop_columns":
            step = constructor_call("DropColumns", {"columns": list(p.columns)})
        elif kind == "filter_rows":
            step = constructor_call("FilterRows", {"column": p.column, "operator": p.operator, "value": p.value})
        elif kind == "impute":
            step = constructor_call("Impute", {"strategy": p.strategy, "fill_value": p.fill_value, "columns": p.columns,
                                    "protected": protected}, defaults_of(S.Impute))
        elif kind == "normalize":
            step = constructor_call("Normalize", {"method": p.method, "columns": p.columns, "protected": protected},
                         defaults_of(S.Normalize))
        elif kind == "one_hot_encode":
            step = constructor_call("OneHot", {"columns": p.columns, "drop_first": p.drop_first,
                                    "handle_unknown": p.handle_unknown, "protected": protected},
                         defaults_of(S.OneHot))
        elif kind == "select_features":
            target = next(iter(sorted(self.plan.protected[node_id])), None)
            step = constructor_call("SelectFeatures", {"method": p.method, "k": p.k, "threshold": p.threshold,
                                            "columns": p.columns, "target": target}, defaults_of(S.SelectFeatures))
        if step:
            return [(self.vars[node_id], step)]
        steps = []  # preprocess: the same steps, in its order
        if p.columns_to_drop:
            steps.append(("drop_columns", constructor_call("DropColumns", {"columns": list(p.columns_to_drop)})))
        if p.drop_nulls:
            steps.append(("drop_nulls", "DropNulls()"))
        if p.encode_categorical:
            steps.append(("one_hot", constructor_call("OneHot", {"protected": protected}, defaults_of(S.OneHot))))
        if p.normalize:
            steps.append(("normalize", constructor_call("Normalize", {"protected": protected}, defaults_of(S.Normalize))))
        return [(f"{self.vars[node_id]}_{name}", constructor) for name, constructor in steps]

    def _step_node(self, node_id: str) -> str:
        source, v = self._input(node_id, "dataset"), self.vars[node_id]
        steps = self._steps_of(node_id)
        for _, constructor in steps:
            self.out.uses_steps.add(constructor.split("(")[0])
        self.tables[(node_id, "dataset")] = Table(v, source.raw, f"{v}_steps", source.fitted_on, source.target)
        if not steps:
            return f"{v}, {v}_steps = {source.frame}, {source.steps}  # nothing to do"
        pairs = [f"({name!r}, {constructor})" for name, constructor in steps]
        line = f"{v}, {v}_steps = apply({source.frame}, {source.steps}, {', '.join(pairs)})"
        if len(line) <= 110:
            return line
        return f"{v}, {v}_steps = apply(\n    {source.frame}, {source.steps},\n" + "".join(f"    {p},\n" for p in pairs) + ")"

    def _train_test_split(self, node_id: str) -> str:
        source, p, v = self._input(node_id, "dataset"), self._params(node_id), self.vars[node_id]
        stratify = f"{source.frame}[{p.target_column!r}]" if p.stratify else "None"
        lines = [f"train_pos, test_pos = train_test_split(np.arange(len({source.frame})), test_size={p.test_size!r}, "
                 f"random_state={p.random_state!r}, stratify={stratify})"]
        if source.fitted_on == "all" and source.steps != "[]":
            self.out.uses.add("pipeline")
            lines += [
                "# The steps above learned from every row (that chose the rows to split); fit them again on the",
                "# training rows only, and transform the test rows with what the training rows taught them.",
                f"{v}_pipeline = Pipeline([(name, clone(step)) for name, step in {source.steps}])",
                f"{v}_train = {v}_pipeline.fit_transform({source.raw}.loc[{source.frame}.index[train_pos]])",
                f"{v}_test = {v}_pipeline.transform({source.raw}.loc[{source.frame}.index[test_pos]])"]
            steps = f"{v}_pipeline.steps"
        else:
            lines += [f"{v}_train, {v}_test = {source.frame}.iloc[train_pos], {source.frame}.iloc[test_pos]"]
            steps = source.steps
        lines.append(f"print(f\"split {{len({source.frame})}} rows into {{len(train_pos)}} train / "
                     f"{{len(test_pos)}} test\")")
        for port in ("train", "test"):
            self.tables[(node_id, port)] = Table(f"{v}_{port}", source.raw, steps, "train", p.target_column)
        return "\n".join(lines)

    def _stub(self, node_id: str) -> str:
        self.out.unsupported.append(node_id)
        defn, v = self.plan.defs[node_id], self.vars[node_id]
        inputs = ", ".join(f"{port}={self._var_of(self._input(node_id, port))}" for port in self.plan.inputs[node_id])
        for port, kind in defn.outputs.items():
            if kind == "dataset":
                self.tables[(node_id, port)] = Table(v, v, "[]")
        return "\n".join([
            f"def {v}_node(**inputs):",
            f"    \"\"\"NOT EXPORTED: Flowza's {defn.type!r} node. Write its code here.\"\"\"",
            f"    raise NotImplementedError({f'node {node_id!r} ({defn.type}) was not exported: write it by hand'!r})",
            "",
            "",
            f"{v} = {v}_node({inputs})"])

    @staticmethod
    def _var_of(value) -> str:
        if isinstance(value, Table):
            return value.frame
        if isinstance(value, Fitted):
            return value.estimator
        return "None"


def step_sources(names: set[str], uses: set[str]) -> str:
    """The source of the standalone step classes used, with the helpers they and the script need."""
    S = standalone_steps
    classes = [cls for cls in (S.DropColumns, S.DropNulls, S.FilterRows, S.Impute, S.Normalize, S.OneHot,
                               S.SelectFeatures) if cls.__name__ in names]
    helpers = [*S.COPIED_HELPERS, S.pick_columns] if classes else []
    if {"DropColumns", "DropNulls", "FilterRows"} & names:
        helpers.append(S.Stateless)
    tail = [S.apply, S.features] + ([S.through] if "through" in uses else [])
    return "\n\n".join(inspect.getsource(obj) for obj in helpers + classes + tail)


def metrics_source() -> str:
    """Flowza's own metric functions (``nodes.metrics``) and how it tells classification from regression."""
    constants = f"CLASSIFICATION = {metrics.CLASSIFICATION!r}\nREGRESSION = {metrics.REGRESSION!r}\n"
    functions = (infer_task, metrics.positive_class, metrics.classification_metrics, metrics.regression_metrics)
    return constants + "\n\n" + "\n\n".join(inspect.getsource(f) for f in functions)
