"""`POST /v1/embeddings` straight to the simulator, through Sluice's gateway and through a LiteLLM proxy, in one run.

Each call embeds 8 texts of 50 words into 256 floats. For 1 and 10 calls at once: p50/p95/p99 latency, calls per
second, the latency each proxy adds over the direct call, and each proxy's CPU time per call and RSS (from /proc).
Sluice runs on SQLite with budgets and accounting on; LiteLLM with one worker (`allowed_openai_params: ["dimensions"]`:
it refuses `dimensions` for a model it does not know otherwise). Everything runs on loopback and stops by itself.

    python3 bench/embeddings.py --sluice .build/release/sluice [--litellm PATH|none] [--calls 300]
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import add_unlimited_user, free_port, percentile, wait_until_serving  # noqa: E402

TEXTS = [" ".join(f"word{i}x{j}" for j in range(50)) for i in range(8)]
BODY = json.dumps({"model": "sim", "input": TEXTS, "dimensions": 256, "encoding_format": "float"}).encode()


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
    return float("nan")


def call(url, key):
    request = urllib.request.Request(url, data=BODY, headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            data = json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise RuntimeError(f"{url}: HTTP {error.code}: {error.read()[:300]!r}") from None
    if len(data["data"]) != len(TEXTS) or len(data["data"][0]["embedding"]) != 256:
        raise RuntimeError(f"{url}: unexpected answer")
    return (time.perf_counter() - start) * 1000


def run(url, key, at_once, calls):
    """`calls` calls from `at_once` threads; the sorted latencies (ms), the wall time (s) and the first failure."""
    times, failures, lock = [], [], threading.Lock()

    def worker(count):
        for _ in range(count):
            try:
                elapsed = call(url, key)
            except Exception as error:  # noqa: BLE001 - reported below, the run goes on
                with lock:
                    failures.append(error)
                continue
            with lock:
                times.append(elapsed)

    threads = [threading.Thread(target=worker, args=(calls // at_once,)) for _ in range(at_once)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(times), time.perf_counter() - start, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sluice", default=".build/release/sluice")
    parser.add_argument("--litellm", default=None, help="path to the litellm executable, or none")
    parser.add_argument("--calls", type=int, default=300)
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="sluice-bench-embeddings-")
    env = {key: value for key, value in os.environ.items() if not key.startswith("SLUICE_")}
    processes = []
    try:
        sim_port, sluice_port = free_port(), free_port()
        simulator = subprocess.Popen([args.sluice, "simulate", "--port", str(sim_port)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        processes.append(simulator)
        wait_until_serving(f"http://127.0.0.1:{sim_port}/health", simulator)
        db = os.path.join(work, "db.sqlite")
        token = add_unlimited_user(args.sluice, db, env=env)
        sluice = subprocess.Popen(
            [args.sluice, "serve", "--port", str(sluice_port), "--db", db, "--model", "sim",
             "--upstream", f"http://127.0.0.1:{sim_port}/v1", "--log-level", "warning"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        processes.append(sluice)
        wait_until_serving(f"http://127.0.0.1:{sluice_port}/healthz", sluice)
        targets = [("direct", f"http://127.0.0.1:{sim_port}/v1/embeddings", "x", None),
                   ("sluice", f"http://127.0.0.1:{sluice_port}/v1/embeddings", token, sluice.pid)]
        version = None
        if args.litellm and args.litellm != "none" and os.access(args.litellm, os.X_OK):
            litellm_port = free_port()
            config = os.path.join(work, "litellm.yaml")
            with open(config, "w") as file:
                file.write(f"""model_list:
  - model_name: sim
    litellm_params:
      model: openai/sim
      api_base: http://127.0.0.1:{sim_port}/v1
      api_key: sk-simulator
      allowed_openai_params: ["dimensions"]
general_settings:
  master_key: sk-bench
""")
            litellm = subprocess.Popen(
                [args.litellm, "--config", config, "--port", str(litellm_port), "--host", "127.0.0.1", "--num_workers", "1"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                env={**env, "LITELLM_LOG": "ERROR", "LITELLM_LOCAL_MODEL_COST_MAP": "True"})
            processes.append(litellm)
            wait_until_serving(f"http://127.0.0.1:{litellm_port}/health/liveliness", litellm, seconds=180)
            targets.append(("litellm", f"http://127.0.0.1:{litellm_port}/v1/embeddings", "sk-bench", litellm.pid))
            python = os.path.join(os.path.dirname(args.litellm), "python3")
            version = subprocess.run([python, "-c", "import importlib.metadata as m; print(m.version('litellm'))"],
                                     capture_output=True, text=True).stdout.strip() or "(version unknown)"
        print(f"{len(TEXTS)} texts of 50 words into 256 floats per call ({len(BODY)} B request); {args.calls} calls per row "
              f"after 30 to warm up; LiteLLM {version or 'not run'}")
        print(f"{'at once':>7}  {'target':8} {'p50':>9} {'p95':>9} {'p99':>9} {'calls/s':>8} {'added p50':>10} {'CPU/call':>10} {'RSS':>8}")
        for at_once in (1, 10):
            direct_p50 = None
            cpu_per_call = {}
            for name, url, key, pid in targets:
                run(url, key, at_once, 30)
                before = cpu_seconds(pid) if pid else 0.0
                times, wall, failures = run(url, key, at_once, args.calls)
                if failures:
                    print(f"{at_once:>7}  {name:8} {len(failures)} of {args.calls} calls failed, the first: {failures[0]}")
                    continue
                p50 = percentile(times, 50)
                direct_p50 = p50 if name == "direct" else direct_p50
                added = f"+{p50 - direct_p50:.2f} ms" if name != "direct" and direct_p50 is not None else ""
                cpu = ""
                if pid:
                    cpu_per_call[name] = (cpu_seconds(pid) - before) / len(times) * 1e6
                    cpu = f"{cpu_per_call[name]:,.0f} µs"
                rss = f"{rss_mib(pid):.0f} MiB" if pid else ""
                print(f"{at_once:>7}  {name:8} {p50:7.2f}ms {percentile(times, 95):7.2f}ms {percentile(times, 99):7.2f}ms "
                      f"{len(times) / wall:8.0f} {added:>10} {cpu:>10} {rss:>8}", flush=True)
            if "sluice" in cpu_per_call and "litellm" in cpu_per_call:
                print(f"{'':>7}  LiteLLM's CPU per call is {cpu_per_call['litellm'] / cpu_per_call['sluice']:.1f}× Sluice's")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=30)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
