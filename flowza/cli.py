"""The ``flowza`` command: run and validate workflow files, list the node catalog, browse the model registry,
deploy models on a running service and score rows with them, keep named connections there."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from flowza_core.errors import FlowzaError, WorkflowInvalid

log = logging.getLogger(__name__)


def _load(path: str, what: str = "workflow file") -> dict:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise FlowzaError(f"{what} not found: {path}", code="FILE_NOT_FOUND") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise FlowzaError(f"cannot read {path}: {exc}", code="FILE_NOT_READABLE") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FlowzaError(f"{path} is not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}",
                          code="PARSE_ERROR") from None


def _print_problems(problems) -> None:
    for p in problems:
        print(f"  {'error' if p.severity == 'error' else 'warning'}: {p}", file=sys.stderr)


def _describe_outputs(node: dict) -> str:
    parts = []
    for port, out in (node.get("outputs") or {}).items():
        if out.get("kind") == "dataset":
            parts.append(f"{port}: {out['rows']:,} rows × {len(out['columns'])} cols")
        elif out.get("kind") == "model":
            parts.append(f"{port}: {out['estimator']} ({out['task']}, target '{out['target']}')")
            if registered := out.get("registered"):
                alias = f" alias '{registered['alias']}'" if registered.get("alias") else ""
                parts.append(f"registered as {registered['name']} v{registered['version']}{alias}")
    return ", ".join(parts)


class Progress:
    """Prints one line per node as it finishes."""

    def __init__(self, total: int):
        self.total, self.done = total, 0

    def __call__(self, event: dict) -> None:
        if event["event"] != "node_finished":
            return
        self.done = event["progress"]["done"] if event.get("progress") else self.done
        mark = {"completed": "✓", "failed": "✗"}.get(event["status"], "·")
        note = "cached" if event["cached"] else f"{event['duration_s']:.2f}s"
        line = f"  [{self.done}/{self.total}] {mark} {event['node_id']}  ({note})"
        if event.get("error"):
            line += f"\n        {event['error']['code']}: {event['error']['message']}"
        print(line, flush=True)


def _print_summary(record: dict, elapsed: float) -> None:
    print()
    for nid, node in record["nodes"].items():
        described = _describe_outputs(node)
        if node["status"] == "not_run":
            print(f"  - {nid} ({node['type']}): not run (an upstream node failed)")
        elif described:
            print(f"  {nid} ({node['type']}): {described}")
    for nid, metrics in (record.get("metrics") or {}).items():
        print(f"\nMetrics of {nid}:")
        for name, value in metrics.items():
            if isinstance(value, (int, float)):
                print(f"  {name:>16}: {value:.4f}")
        if "confusion_matrix" in metrics:
            print(f"  confusion matrix (rows: actual, columns: predicted {metrics.get('labels')}):")
            for row in metrics["confusion_matrix"]:
                print("    " + " ".join(f"{v:>6}" for v in row))
    if record.get("mlflow_run_id"):
        print(f"\nMLflow run {record['mlflow_run_id']} (params, metrics, plots, models).")
    status = record["status"]
    print(f"\nRun {record['run_id']} {status} in {elapsed:.1f}s.")
    if error := record.get("error"):
        where = f" at node '{error['node_id']}'" if error.get("node_id") else ""
        print(f"  {error['code']}{where}: {error['message']}")


def cmd_run(args) -> int:
    from flows.prefect_env import configure_prefect

    workflow = _load(args.file)
    configure_prefect(quiet_console=True)
    from flows.validation import compile_plan

    plan = compile_plan(workflow)  # invalid workflows stop here, before Prefect starts
    if not args.json:
        _print_problems(plan.warnings)
        if "PREFECT_API_URL" not in os.environ:
            print("(no Prefect server running: starting a temporary one for this run)", file=sys.stderr)
        print(f"Running \"{plan.spec.name}\" ({len(plan.order)} nodes)", flush=True)
    from flows.engine import execute

    t0 = time.perf_counter()
    record = execute(workflow, use_cache=not args.no_cache, on_event=None if args.json else Progress(len(plan.order)))
    if args.json:
        print(json.dumps(record, indent=2))
    else:
        _print_summary(record, time.perf_counter() - t0)
    return 0 if record["status"] == "completed" else 1


def cmd_validate(args) -> int:
    from flows.validation import validate_workflow

    plan, problems = validate_workflow(_load(args.file))
    if args.json:
        print(json.dumps({"valid": plan is not None, "problems": [p.to_dict() for p in problems]}, indent=2))
    else:
        _print_problems(problems)
        print(f"{args.file}: " + ("valid" if plan else f"{sum(p.severity == 'error' for p in problems)} error(s)"))
    return 0 if plan else 2


def cmd_nodes(args) -> int:
    from nodes.catalog import catalog

    entries = catalog()
    if args.json:
        print(json.dumps(entries, indent=2))
        return 0
    category = None
    for entry in entries:
        if entry["category"] != category:
            category = entry["category"]
            print(f"\n{category}")
        ins = ", ".join(f"{p['name']}:{p['type']}" for p in entry["inputs"]) or "-"
        outs = ", ".join(f"{p['name']}:{p['type']}" for p in entry["outputs"])
        print(f"  {entry['type']:<18} {ins} -> {outs}\n      {entry['description'].splitlines()[0]}")
    return 0


def cmd_models(args) -> int:
    from flows import registry

    if args.name == "export-docker":
        return cmd_export_docker(args)
    if args.more:
        raise FlowzaError(f"unexpected argument(s): {' '.join(args.more)}", code="INVALID_ARGUMENT")
    if not args.name:
        models = registry.list_models()
        if args.json:
            print(json.dumps(models, indent=2))
        for m in [] if args.json else models:
            aliases = ", ".join(f"{a}->v{v}" for a, v in m["aliases"].items()) or "no aliases"
            print(f"  {m['name']:<30} latest v{m['latest_version']}  ({aliases})")
        if not models and not args.json:
            print("no registered models yet: add a register_model node to a workflow")
        return 0
    if args.set_alias:
        alias, _, version = args.set_alias.partition("=")
        if not version.isdigit():
            raise FlowzaError("--set-alias takes ALIAS=VERSION, e.g. champion=3", code="INVALID_ARGUMENT")
        registry.set_alias(args.name, alias, int(version))
    if args.remove_alias:
        registry.remove_alias(args.name, args.remove_alias)
    if args.download:
        path = registry.download_model(args.name, args.download, Path(args.to))
        print(f"downloaded {args.name} v{args.download} to {path}")
        return 0
    versions = registry.list_versions(args.name)
    if args.json:
        print(json.dumps(versions, indent=2, default=str))
        return 0
    for v in versions:
        scores = ", ".join(f"{k} {val:.4f}" for k, val in sorted(v["metrics"].items()))
        aliases = f" [{', '.join(v['aliases'])}]" if v["aliases"] else ""
        print(f"  v{v['version']}{aliases}  {scores}  (flowza run {v['lineage'].get('flowza.run_id', '?')})")
    return 0


def _service(args):
    from flowza.sdk import Service
    from flowza_core.settings import get_settings

    return Service(args.url or f"http://127.0.0.1:{get_settings().api_port}", token=args.login_token)


def _print_deployment(d: dict) -> None:
    serves = f"version {d['version']}" if d["version"] is not None else f"alias '{d['alias']}'"
    print(f"{d['name']}: {d['model']} {serves} -> v{d['current_version']}  [{d['status']}]  "
          f"{d['requests_total']} request(s)")
    print(f"  {d['invocations_url']}")
    if d.get("error"):
        print(f"  error: {d['error']}")


def cmd_deploy(args) -> int:
    deployed = _service(args).deploy(args.name, args.model, version=args.version, alias=args.alias)
    if args.json:
        print(json.dumps(deployed, indent=2))
    else:
        _print_deployment(deployed)
        print(f"  next: flowza deployments token {args.name}   (a token for the endpoint)")
    return 0 if deployed["status"] == "ready" else 1


def cmd_deployments(args) -> int:
    service = _service(args)
    if args.action != "list" and not args.name:
        raise FlowzaError(f"`flowza deployments {args.action}` needs a deployment name", code="INVALID_ARGUMENT")
    if args.action == "list":
        found = service.deployments()
    elif args.action == "show":
        found = service.deployment(args.name) | {"stats": service.stats(args.name)}
    elif args.action == "delete":
        service.delete_deployment(args.name)
        print(f"deleted deployment {args.name}")
        return 0
    else:
        found = service.create_token(args.name, args.label)
        if not args.json:
            print(f"{found['token']}\n(token '{found['name']}': shown once, keep it; send it as "
                  f"'Authorization: Bearer <token>')")
            return 0
    if args.json:
        print(json.dumps(found, indent=2, default=str))
    elif args.action == "list":
        for d in found:
            _print_deployment(d)
        if not found:
            print("no deployments yet: `flowza deploy NAME --model MODEL --version N`")
    else:
        _print_deployment(found)
        stats = found["stats"]
        print(f"  {stats['predictions_total']} prediction(s), {stats['last_minute']} request(s) in the last "
              f"minute, {stats['labelled_total']} labelled")
    return 0


def _print_connection(c: dict) -> None:
    config = ", ".join(f"{k}={v}" for k, v in c["config"].items())
    print(f"{c['name']}: {c['kind']}{f'  ({config})' if config else ''}  secret: {', '.join(c['secret_fields'])}")


def _key_values(items: list[str] | None, option: str) -> dict:
    out = {}
    for item in items or ():
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise FlowzaError(f"{option} takes KEY=VALUE", code="INVALID_ARGUMENT")  # never echo: it may be a secret
        out[key.strip()] = value
    return out


def _connection_secret(kind: str, given: list[str] | None) -> dict:
    """The secret from --secret, then the rest prompted (not echoed) or, from a pipe, read as a JSON object:
    values typed at a prompt or piped stay out of the shell's history."""
    import getpass
    from typing import get_origin

    from flowza_core.connection_kinds import KINDS, secret_fields

    secret = _key_values(given, "--secret")
    missing = [f for f in secret_fields(kind) if f not in secret]
    if missing and not sys.stdin.isatty():
        try:
            piped = json.loads(sys.stdin.read() or "{}")
        except ValueError:
            piped = None
        if not isinstance(piped, dict):
            raise FlowzaError(f"stdin must hold the secret as a JSON object with {', '.join(missing)}",
                              code="INVALID_ARGUMENT")
        secret |= piped
    elif missing:
        secret |= {f: getpass.getpass(f"{f} (not shown): ") for f in missing}
    fields = KINDS[kind][1].model_fields
    for key, value in secret.items():  # a dict-valued secret (http headers) is typed as JSON
        if key in fields and get_origin(fields[key].annotation) is dict and isinstance(value, str):
            try:
                secret[key] = json.loads(value)
            except ValueError:
                raise FlowzaError(f"{key} is a JSON object, e.g. {{\"Authorization\": \"Bearer …\"}}",
                                  code="INVALID_ARGUMENT") from None
    return secret


def cmd_connections(args) -> int:
    service = _service(args)
    if args.action != "list" and not args.name:
        raise FlowzaError(f"`flowza connections {args.action}` needs a connection name", code="INVALID_ARGUMENT")
    if args.action == "list":
        found = service.connections()
    elif args.action == "show":
        found = service.connection(args.name)
    elif args.action == "delete":
        service.delete_connection(args.name)
        print(f"deleted connection {args.name}")
        return 0
    else:
        from flowza_core.connection_kinds import KINDS

        if args.kind not in KINDS:
            raise FlowzaError(f"`flowza connections add` needs --kind, one of: {', '.join(KINDS)}",
                              code="INVALID_ARGUMENT")
        found = service.add_connection(args.name, args.kind, _connection_secret(args.kind, args.secret),
                                       _key_values(args.config, "--config"))
    if args.json:
        print(json.dumps(found, indent=2, default=str))
    elif args.action == "list":
        for c in found:
            _print_connection(c)
        if not found:
            print("no connections yet: `flowza connections add NAME --kind postgresql`")
    else:
        _print_connection(found)
    return 0


def _rows(path: str):
    import pandas as pd

    if path.lower().endswith(".csv"):
        try:
            return pd.read_csv(path)
        except FileNotFoundError:
            raise FlowzaError(f"rows file not found: {path}", code="FILE_NOT_FOUND") from None
        except (OSError, ValueError) as exc:
            raise FlowzaError(f"cannot read {path} as CSV: {exc}", code="PARSE_ERROR") from None
    return _load(path, "rows file")


def cmd_predict(args) -> int:
    answer = _service(args).predict(args.name, _rows(args.file), token=args.token, on_error=args.on_error)
    if args.json:
        print(json.dumps(answer, indent=2))
        return 0
    probabilities = answer.get("probabilities") or [None] * len(answer["predictions"])
    for row, (prediction, proba) in enumerate(zip(answer["predictions"], probabilities)):
        chance = f"  (p={max(proba.values()):.3f})" if proba else ""
        print(f"  row {row}: {prediction}{chance}")
    for error in answer.get("errors", []):
        print(f"  row {error['row']}: not scored: {error['message']}", file=sys.stderr)
    print(f"request {answer['request_id']}, model version {answer['model_version']}")
    return 0


def cmd_export_docker(args) -> int:
    if len(args.more) != 2 or not args.more[1].isdigit():
        raise FlowzaError("usage: flowza models export-docker NAME VERSION -o OUT.tar.gz", code="INVALID_ARGUMENT")
    name, version = args.more[0], int(args.more[1])
    out = args.output or f"{name}-{version}-docker.tar.gz"
    path = _service(args).export_docker(name, version, out)
    print(f"wrote {path}: unpack it and `docker build` there (or run server.py in a virtualenv)")
    return 0


def _service_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="the Flowza service (default: http://127.0.0.1:FLOWZA_API_PORT)")
    parser.add_argument("--login-token", help="a login token (POST /api/auth/login) for a multi-user service")


def _csv_source(path: str):
    """``--dataset FILE``: a csv_loader reading the file by its path relative to FLOWZA_DATA_DIR."""
    from flows.generate.profile import PROFILE_ROWS, Source
    from flowza_core.settings import get_settings
    from nodes.csv_reading import CsvReadOptions, read_csv

    root, file = get_settings().data_root, Path(path).expanduser().resolve()
    if not file.is_file():
        raise FlowzaError(f"dataset file not found: {path}", code="FILE_NOT_FOUND")
    if not file.is_relative_to(root):
        raise FlowzaError(f"{path} is outside the data directory ({root}), where a csv_loader reads files: move "
                          f"it there, or set FLOWZA_DATA_DIR to a folder holding it", code="INVALID_ARGUMENT")
    relative = file.relative_to(root).as_posix()
    frame = read_csv(file, CsvReadOptions(), nrows=PROFILE_ROWS)
    return Source({"type": "csv_loader", "parameters": {"file_path": relative}}, frame, relative)


def cmd_generate(args) -> int:
    from flows.generate import generate_workflow

    generated = generate_workflow(args.prompt, _csv_source(args.dataset) if args.dataset else None)
    text = json.dumps(generated.workflow, indent=2)
    if args.output:
        Path(args.output).write_text(text + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(generated.to_dict(), indent=2))
        return 0
    say = sys.stdout if args.output else sys.stderr  # without -o, stdout is the workflow alone (pipe it)
    print(generated.explanation, file=say)
    for warning in generated.warnings:
        print(f"  warning: {warning}", file=say)
    print(f"wrote {args.output}: run it with `flowza run {args.output}`" if args.output else text)
    return 0


def cmd_export(args) -> int:
    from flows.export import export_workflow

    exported = export_workflow(_load(args.file), args.format)
    output = Path(args.output or exported.filename)
    if output.resolve() == Path(args.file).resolve():
        raise FlowzaError(f"{output} is the workflow file itself: give another name with -o", code="INVALID_PARAMETER")
    output.write_text(exported.text, encoding="utf-8")
    print(f"wrote {output}" + (f" (run it with: python {output})" if args.format == "py" else ""))
    if exported.unsupported:
        print(f"not exported (stubs that raise; write them by hand): {', '.join(exported.unsupported)}",
              file=sys.stderr)
    return 0


def cmd_up(args) -> int:
    from flowza.up import up

    return up(timeout=args.timeout)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowza", description="Run ML workflows on Prefect.")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="validate and run a workflow JSON file")
    run.add_argument("file")
    run.add_argument("--json", action="store_true", help="print the run record as one JSON object")
    run.add_argument("--no-cache", action="store_true", help="recompute every node")
    run.set_defaults(func=cmd_run)
    val = sub.add_parser("validate", help="report every problem in a workflow JSON file")
    val.add_argument("file")
    val.add_argument("--json", action="store_true")
    val.set_defaults(func=cmd_validate)
    nodes = sub.add_parser("nodes", help="list the node catalog")
    nodes.add_argument("--json", action="store_true")
    nodes.set_defaults(func=cmd_nodes)
    models = sub.add_parser("models", help="browse the model registry: models, versions, aliases")
    models.add_argument("name", nargs="?", help="a registered model: list its versions; or export-docker NAME "
                                                "VERSION -o OUT.tar.gz (from the running service)")
    models.add_argument("more", nargs="*", help=argparse.SUPPRESS)
    models.add_argument("-o", "--output", help="where export-docker writes the build context")
    models.add_argument("--set-alias", metavar="ALIAS=VERSION", help="point an alias at a version")
    models.add_argument("--remove-alias", metavar="ALIAS")
    models.add_argument("--download", type=int, metavar="VERSION", help="copy a version's artifact")
    models.add_argument("--to", default=".", help="destination folder for --download")
    models.add_argument("--json", action="store_true")
    _service_options(models)
    models.set_defaults(func=cmd_models)
    deploy = sub.add_parser("deploy", help="serve a registered model behind a REST endpoint of the running service")
    deploy.add_argument("name", help="the deployment's name: lowercase letters, digits and '-'")
    deploy.add_argument("--model", required=True, help="a registered model")
    target = deploy.add_mutually_exclusive_group(required=True)
    target.add_argument("--version", type=int, help="serve this version")
    target.add_argument("--alias", help="serve the version this alias names, and follow it")
    deploy.add_argument("--json", action="store_true")
    _service_options(deploy)
    deploy.set_defaults(func=cmd_deploy)
    deployments = sub.add_parser("deployments", help="list, show or delete deployments, or create a token")
    deployments.add_argument("action", choices=["list", "show", "delete", "token"])
    deployments.add_argument("name", nargs="?")
    deployments.add_argument("--label", help="what a new token is for")
    deployments.add_argument("--json", action="store_true")
    _service_options(deployments)
    deployments.set_defaults(func=cmd_deployments)
    connections = sub.add_parser("connections", help="list, add, show or delete named connections (database URLs, "
                                                     "S3 credentials, API keys) on the running service")
    connections.add_argument("action", choices=["list", "add", "show", "delete"])
    connections.add_argument("name", nargs="?", help="what nodes call it: lowercase letters, digits, '_' and '-'")
    connections.add_argument("--kind", help="add: postgresql, s3, http or openai")
    connections.add_argument("--config", action="append", metavar="KEY=VALUE",
                             help="add: a public setting (e.g. bucket=…, base_url=…); repeat for more")
    connections.add_argument("--secret", action="append", metavar="KEY=VALUE",
                             help="add: a secret value (it stays in your shell history: prefer the prompt, or a "
                                  "JSON object on stdin, which ask for every secret value not given here)")
    connections.add_argument("--json", action="store_true")
    _service_options(connections)
    connections.set_defaults(func=cmd_connections)
    predict = sub.add_parser("predict", help="score the rows of a CSV or JSON file with a deployment")
    predict.add_argument("name")
    predict.add_argument("--token", required=True, help="a token of the deployment")
    predict.add_argument("--file", required=True, help="rows.csv, or a JSON list of records or scoring body")
    predict.add_argument("--on-error", choices=["fail", "skip"], default="fail",
                         help="skip: score the good rows and list the bad ones")
    predict.add_argument("--json", action="store_true")
    _service_options(predict)
    predict.set_defaults(func=cmd_predict)
    generate = sub.add_parser("generate", help="turn a description into a workflow JSON file (checked on a sample)")
    generate.add_argument("prompt", help="e.g. \"predict survived from titanic with xgboost, fill missing ages\"")
    generate.add_argument("--dataset", metavar="FILE.csv",
                          help="a CSV to build on (default: the shipped sample the prompt names); the workflow's "
                               "csv_loader reads it by its path relative to FLOWZA_DATA_DIR (default: the current "
                               "folder), so a file outside that folder is refused")
    generate.add_argument("-o", "--output", metavar="OUT.json", help="write the workflow here (default: stdout)")
    generate.add_argument("--json", action="store_true", help="print workflow, explanation and warnings as JSON")
    generate.set_defaults(func=cmd_generate)
    export = sub.add_parser("export", help="write a workflow JSON file as a standalone Python script or notebook")
    export.add_argument("file")
    export.add_argument("--format", choices=["py", "ipynb", "json"], default="py")
    export.add_argument("-o", "--output", help="where to write it (default: named after the workflow, in this folder)")
    export.set_defaults(func=cmd_export)
    start = sub.add_parser("up", help="start Prefect, MLflow, a worker and the API on this machine")
    start.add_argument("--timeout", type=float, default=120, help="seconds each service may take to start")
    start.set_defaults(func=cmd_up)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler()
    handler.setLevel(logging.WARNING)
    # Prefect's own records (tracebacks included) go to its API and UI; the terminal shows ours.
    handler.addFilter(lambda record: not record.name.startswith("prefect"))
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logging.getLogger().addHandler(handler)
    try:
        return args.func(args)
    except WorkflowInvalid as exc:
        if getattr(args, "json", False):
            print(json.dumps({"status": "failed", "error": exc.to_dict(),
                              "problems": [p.to_dict() for p in exc.problems]}, indent=2))
        else:
            print("The workflow is not valid:", file=sys.stderr)
            _print_problems(exc.problems)
        return 2
    except FlowzaError as exc:
        if getattr(args, "json", False):
            print(json.dumps({"status": "failed", "error": exc.to_dict()}, indent=2))
        else:
            print(f"error: {exc.message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
