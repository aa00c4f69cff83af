"""Serving throughput and latency: Flowza's deployment endpoint vs ``mlflow models serve``, same model.

Starts the stack as `flowza up` does (tests/benchmarks/stack.py: the API is `python -m uvicorn --factory
api.main:create_app`), runs the Titanic example through it (impute, one-hot, scale, logistic regression,
registered as titanic-survival v1), deploys that version over REST with a token (prediction logging on,
as always), downloads the same version and serves it with `mlflow models serve --env-manager local
--workers <cores>`. Then, one side after the other, `wrk` (one thread, --connections connections) POSTs a
one-row ``dataframe_split`` body: --warmup seconds unmeasured, then --duration seconds measured.

Prints each side's requests/s, p50 and p99 and the ratios (throughput: Flowza / MLflow; p99: Flowza /
MLflow), against the issue's targets (>= 10x the throughput, <= 1/5 of the p99), and each server's CPU time
per request (from /proc: every thread of the API process; every process of `mlflow models serve`), which
other load on the machine does not skew the way it skews rates and latencies. A report, not a test:
exits 0 whatever the figures, 1 if a side answered errors or a run failed, 2 if the stack did not start.
From the repository root:

    .venv/bin/python tests/benchmarks/serving.py [--duration 20] [--warmup 5] [--connections 8]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the repository root

from service_latency import RunFailed, service_run  # noqa: E402
from stack import REPO, Stack, StackFailed, free_port, say  # noqa: E402

THROUGHPUT_TARGET, P99_TARGET = 10.0, 1 / 5
WRK = "/usr/bin/wrk"
ROW = {"columns": ["pclass", "sex", "age", "sibsp", "parch", "fare", "embarked", "adult_male", "alone"],
       "data": [[3, "male", 22.0, 1, 0, 7.25, "S", True, False]]}
LUA = """\
wrk.method = "POST"
wrk.body = {body}
wrk.headers["Content-Type"] = "application/json"
{auth}
done = function(summary, latency, requests)
  local errors = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99),
    errors.connect + errors.read + errors.write + errors.status + errors.timeout))
end
"""


def cpu_seconds(pids: list[int]) -> float:
    """CPU time (user + system) the processes have used so far, all their threads."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / os.sysconf("SC_CLK_TCK")


def server_pids(*args: str, session: int | None = None) -> list[int]:
    """Processes whose arguments include every one of ``args``, or every process of ``session``."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if session is not None:
                if int((proc / "stat").read_text().rsplit(")", 1)[1].split()[3]) == session:
                    found.append(int(proc.name))
            elif set(args) <= set((proc / "cmdline").read_bytes().decode(errors="replace").split("\0")):
                found.append(int(proc.name))
        except (OSError, ValueError):
            continue
    return found


def wrk(url: str, token: str | None, seconds: int, connections: int, folder: Path, pids: list[int] = ()) -> dict:
    """One wrk run: requests/s, p50 and p99 (ms), errors (non-2xx answers and socket errors), and the server's
    CPU milliseconds per request (``pids``: its processes)."""
    script = folder / "post.lua"
    auth = f'wrk.headers["Authorization"] = "Bearer {token}"' if token else ""
    script.write_text(LUA.format(body=json.dumps(json.dumps({"dataframe_split": ROW})), auth=auth))
    cpu = cpu_seconds(pids)
    done = subprocess.run([WRK, "-t1", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "-s", str(script),
                           url], capture_output=True, text=True, timeout=seconds + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise RunFailed(f"wrk said: {done.stdout}{done.stderr}")
    requests, duration_us, p50_us, p99_us, errors = map(int, line.split()[1:])
    return {"rps": requests / (duration_us / 1e6), "p50": p50_us / 1000, "p99": p99_us / 1000, "errors": errors,
            "requests": requests, "cpu_ms": (cpu_seconds(pids) - cpu) * 1000 / max(requests, 1)}


def deploy(client: httpx.Client) -> tuple[str, str]:
    """Train and register the Titanic example through the API, deploy v1; (invocations URL, token)."""
    workflow = json.loads((REPO / "examples" / "titanic.json").read_text())
    run = service_run(client, workflow, poll_s=0.5, timeout_s=600)
    say(f"titanic-survival v1 trained and registered in {run['done']:.1f} s")
    created = client.post("/api/deployments", json={"name": "titanic", "model": "titanic-survival", "version": 1})
    if created.status_code != 201:
        raise RunFailed(f"the deployment was not created: {created.text}")
    token = client.post("/api/deployments/titanic/tokens", json={"name": "benchmark"})
    if token.status_code != 201:
        raise RunFailed(f"no token: {token.text}")
    return created.json()["invocations_url"], token.json()["token"]


def mlflow_serve(client: httpx.Client, folder: Path, workers: int) -> tuple[subprocess.Popen, str]:
    """The same registered version, downloaded through the API, under `mlflow models serve`."""
    download = client.get("/api/models/titanic-survival/versions/1/download")
    if download.status_code != 200:
        raise RunFailed(f"the model did not download: {download.text}")
    model_dir = folder / "model"
    zipfile.ZipFile(io.BytesIO(download.content)).extractall(model_dir)
    port = free_port()
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "mlflow", "models", "serve", "-m", str(model_dir), "--env-manager", "local",
         "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)],
        env=env, stdout=(folder / "mlflow-serve.log").open("wb"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 180
    while True:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/ping", timeout=2)
            return process, f"http://127.0.0.1:{port}/invocations"
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RunFailed("mlflow models serve did not start: "
                                + (folder / "mlflow-serve.log").read_text()[-2000:]) from None
            time.sleep(0.5)


def stop(process: subprocess.Popen) -> None:
    os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def check_answers(url: str, token: str | None) -> dict:
    request = urllib.request.Request(url, data=json.dumps({"dataframe_split": ROW}).encode(), method="POST",
                                     headers={"Content-Type": "application/json"}
                                     | ({"Authorization": f"Bearer {token}"} if token else {}))
    with urllib.request.urlopen(request, timeout=30) as resp:
        return json.loads(resp.read())


def measure(args, stack: Stack, folder: Path) -> bool:
    cores = os.cpu_count() or 1
    with httpx.Client(base_url=stack.api_url, timeout=120) as client:
        url, token = deploy(client)
        mlflow, mlflow_url = mlflow_serve(client, folder, cores)
        try:
            flowza_answer, mlflow_answer = check_answers(url, token), check_answers(mlflow_url, None)
            say(f"Flowza answers {flowza_answer['predictions']}, MLflow {mlflow_answer['predictions']}")
            if flowza_answer["predictions"] != mlflow_answer["predictions"]:
                raise RunFailed("the two servers disagree on the benchmark row")
            results = {}
            port = stack.api_url.rsplit(":", 1)[1]
            sides = (("Flowza", url, token, server_pids("api.main:create_app", port)),
                     ("MLflow", mlflow_url, None, server_pids(session=mlflow.pid)))
            for side, target, auth, pids in sides:
                if not pids:
                    raise RunFailed(f"the {side} server's processes were not found")
                say(f"{side}: {args.warmup} s warm-up, then {args.duration} s measured, {args.connections} connections")
                wrk(target, auth, args.warmup, args.connections, folder)
                results[side] = wrk(target, auth, args.duration, args.connections, folder, pids)
        finally:
            stop(mlflow)
        time.sleep(2)  # a few prediction-log flush windows (FLOWZA_PREDICTION_LOG_FLUSH_S, 0.5 s)
        stats = client.get("/api/deployments/titanic/stats").json()
    print(f"model: titanic-survival v1 (impute, one-hot, scale, logistic regression); one-row dataframe_split; "
          f"wrk -t1 -c{args.connections} -d{args.duration}s after {args.warmup} s warm-up; {cores} cores")
    for side, r in results.items():
        what = "API endpoint, token, prediction log" if side == "Flowza" else f"mlflow models serve --workers {cores}"
        print(f"{side:7s} {r['rps']:8.1f} req/s   p50 {r['p50']:7.2f} ms   p99 {r['p99']:7.2f} ms   "
              f"errors {r['errors']}   server CPU {r['cpu_ms']:.2f} ms/request   ({what})")
    f, m = results["Flowza"], results["MLflow"]
    throughput, p99 = f["rps"] / m["rps"], f["p99"] / m["p99"]
    print(f"throughput ratio {throughput:.1f}x (target >= {THROUGHPUT_TARGET:g}x) "
          f"{'PASS' if throughput >= THROUGHPUT_TARGET else 'MISS'}")
    print(f"p99 ratio {p99:.3f} = 1/{1 / p99:.1f} (target <= 1/{1 / P99_TARGET:g}) "
          f"{'PASS' if p99 <= P99_TARGET else 'MISS'}")
    print(f"server CPU per request: Flowza {f['cpu_ms']:.2f} ms, MLflow {m['cpu_ms']:.2f} ms "
          f"({m['cpu_ms'] / f['cpu_ms']:.1f}x less for Flowza: what bounds throughput when the cores are the limit)")
    print(f"prediction log: {stats.get('predictions_total')} predictions stored, {stats.get('requests_total')} "
          f"requests counted (Flowza answered {f['requests']} in the measured run, plus warm-up and checks)")
    return f["errors"] == 0 and m["errors"] == 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=20, help="measured seconds per side")
    parser.add_argument("--warmup", type=int, default=5, help="unmeasured seconds per side, first")
    parser.add_argument("--connections", type=int, default=8, help="concurrent connections")
    args = parser.parse_args()
    sys.stdout.reconfigure(line_buffering=True)
    folder = Path(tempfile.mkdtemp(prefix="flowza-bench-serving-"))
    try:
        with Stack(extra_env={"FLOWZA_PREDICTIONS_PER_MINUTE_PER_IP": "100000000"}) as stack:
            return 0 if measure(args, stack, folder) else 1
    except StackFailed as exc:
        print(f"the stack did not start: {exc}", file=sys.stderr)
        return 2
    except RunFailed as exc:
        print(f"the benchmark failed: {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
