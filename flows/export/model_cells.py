"""The code of training, evaluation and registry nodes in an export (see ``flows.export.cells``)."""

from __future__ import annotations

import re

from flows.export.parts import Fitted, constructor_call, defaults_of, wrapped


class ModelCells:
    """Methods of ``Exporter`` writing the cells of nodes that fit, score and keep models."""

    # --- training ---
    def _fit(self, node_id: str, estimators: tuple[str, str], args: str, *, task: str, encode: bool = False,
             after: str = "") -> str:
        """Code fitting the classifier or regressor of ``estimators`` (as ``task`` says) on the training table."""
        table, p, v = self._input(node_id, "train"), self._params(node_id), self.vars[node_id]
        target = p.target_column or table.target
        lines = [f"{v}_target = {target!r}",
                 f"X_train, y_train = {table.frame}.drop(columns=[{v}_target]), {table.frame}[{v}_target]"]
        if task == "auto":
            lines += ["task = infer_task(y_train)  # as Flowza decides: classification for labels, else regression",
                      f"{v}_classes = sorted(y_train.unique().tolist()) if task == \"classification\" else None",
                      wrapped(f"{v} = ({estimators[0]} if task == \"classification\" else {estimators[1]})", args)]
        else:
            classes = "sorted(y_train.unique().tolist())" if task == "classification" else "None"
            lines += [f"{v}_classes = {classes}",
                      wrapped(f"{v} = {estimators[0] if task == 'classification' else estimators[1]}", args)]
        encode = encode and task != "regression"
        y = "y_train"
        if encode:
            lines.append(f"y_fit = np.searchsorted(np.asarray({v}_classes), y_train.to_numpy())"
                         + (f" if {v}_classes else y_train" if task == "auto" else "")
                         + "  # XGBoost wants classes as 0…n-1")
            y = "y_fit"
        lines.append(f"{v}.fit(features(X_train), {y})")
        if after:
            lines.append(after)
        self.models[(node_id, "model")] = Fitted(v, table, f"{v}_target", f"{v}_classes", encode, task)
        return "\n".join(lines)

    def _train_logreg(self, node_id: str) -> str:
        from sklearn.linear_model import LogisticRegression

        p = self._params(node_id)
        self.out.uses.add("logreg")
        args = constructor_call("", {"C": p.C, "max_iter": p.max_iter, "class_weight": p.class_weight,
                          "random_state": p.random_state}, defaults_of(LogisticRegression))
        return self._fit(node_id, ("LogisticRegression", ""), args, task="classification")

    def _train_linear_regression(self, node_id: str) -> str:
        from sklearn.linear_model import LinearRegression

        self.out.uses.add("linear")
        args = constructor_call("", {"fit_intercept": self._params(node_id).fit_intercept}, defaults_of(LinearRegression))
        return self._fit(node_id, ("", "LinearRegression"), args, task="regression")

    def _train_xgboost(self, node_id: str) -> str:
        p = self._params(node_id)
        self.out.uses.add("xgboost")
        args = constructor_call("", {"n_estimators": p.n_estimators, "max_depth": p.max_depth,
                          "learning_rate": p.learning_rate, "subsample": p.subsample,
                          "colsample_bytree": p.colsample_bytree, "random_state": p.random_state,
                          "tree_method": "hist"})
        return self._fit(node_id, ("XGBClassifier", "XGBRegressor"), args, task=p.task, encode=True)

    def _train_random_forest(self, node_id: str) -> str:
        p, v = self._params(node_id), self.vars[node_id]
        self.out.uses.add("forest")
        args = constructor_call("", {"n_estimators": p.n_estimators, "max_depth": p.max_depth,
                          "min_samples_leaf": p.min_samples_leaf, "random_state": p.random_state, "n_jobs": -1})
        after = f"{v}.set_params(n_jobs=1)  # one thread to predict: tree outputs summed in a fixed order"
        return self._fit(node_id, ("RandomForestClassifier", "RandomForestRegressor"), args, task=p.task,
                         after=after)

    # --- evaluation and registry ---
    def _evaluate(self, node_id: str) -> str:
        model, test, p = self._input(node_id, "model"), self._input(node_id, "test"), self._params(node_id)
        m = model.estimator
        if test.steps == model.table.steps:
            rows = f"{test.frame}.drop(columns=[{model.target_var}])"
        else:  # the test rows did not pass the model's steps: send their raw rows through them
            self.out.uses.add("through")
            rows = f"through({model.table.steps}, {test.raw}.loc[{test.frame}.index])[X_train.columns]"
        decode = f"{m}.predict(X)"
        if model.encoded:  # XGBoost answers a class's position
            decode = f"np.asarray({model.classes})[{m}.predict(X)]"
            if model.task == "auto":
                decode = f"{m}.predict(X) if {model.classes} is None else {decode}"
        wanted = f", {list(p.metrics)!r}" if p.metrics else ""
        positive = f", positive_label={p.positive_label!r}" if p.positive_label is not None else ""
        figures = f"classification_metrics(y_test, pred, proba, {model.classes}{wanted}{positive})"
        if model.task == "regression":
            figures = f"regression_metrics(y_test, pred{wanted})"
        elif model.task == "auto":
            figures = f"regression_metrics(y_test, pred{wanted}) if {model.classes} is None else {figures}"
        return "\n".join([
            f"X = features({rows})",
            f"y_test = {test.frame}[{model.target_var}].to_numpy()",
            f"pred = {decode}",
            f"proba = {m}.predict_proba(X) if hasattr({m}, \"predict_proba\") else None",
            f"metrics[{node_id!r}] = {figures}"])

    def _register_model(self, node_id: str) -> str:
        model, p = self._input(node_id, "model"), self._params(node_id)
        self.models[(node_id, "model")] = model
        self.out.uses.add("joblib")
        alias = f" under the alias {p.alias!r}" if p.alias else ""
        file = re.sub(r"[^A-Za-z0-9_.-]+", "-", p.name)
        return "\n".join([
            f"# Flowza registers this model in MLflow as {p.name!r}{alias}; here it is saved to a file:",
            "# its fitted steps (raw rows in) and the estimator (features in).",
            f"joblib.dump({{\"steps\": {model.table.steps}, \"estimator\": {model.estimator}}}, "
            f"Path(MODEL_DIR) / {file + '.joblib'!r})"])
