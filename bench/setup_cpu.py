"""Setup bench: the server CPU a streamed turn costs before its upstream call, Sluice vs the bare relay.

Starts the simulator with a 400 ms first-token delay, a release `sluice serve` in front of it (SQLite in a temporary
folder, an unlimited user) and `sluice bench relay`, all on free loopback ports. Then, for each server, sends bursts
of N streamed turns at once and reads the server's CPU time (every thread, user and kernel, from
/proc/<pid>/task/*/schedstat) and context switches just before each burst and 250 ms into it: by then every turn
waits for its first token, so the figure is what the turns cost up to their upstream call — parsing, auth, guard,
context, budget hold, the upstream request — without any token relayed (each answer is one token). The two servers' bursts alternate; prints the
medians over the bursts (after 3 to warm up each) and stops everything by itself.

Usage: python3 bench/setup_cpu.py [--sluice .build/release/sluice] [--streams 10] [--bursts 30]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import tempfile
import threading
import time
import urllib.request

from benchlib import add_unlimited_user, free_port, wait_until_serving

FIRST_TOKEN_DELAY_S = 0.4
MEASURED_AFTER_S = 0.25


def thread_totals(pid):
    """(CPU seconds, context switches) summed over the threads of `pid`."""
    cpu_ns, switches = 0, 0
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            with open(f"/proc/{pid}/task/{tid}/schedstat") as f:
                cpu_ns += int(f.read().split()[0])
            with open(f"/proc/{pid}/task/{tid}/status") as f:
                for line in f:
                    if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                        switches += int(line.split()[1])
        except OSError:
            pass  # a thread that ended meanwhile
    return cpu_ns / 1e9, switches


def turn(port, headers, body):
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/v1/chat/completions", data=body, headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()


def burst(port, pid, headers, body, streams):
    """One burst of `streams` turns at once: (CPU µs, context switches) per turn up to their upstream calls."""
    time.sleep(0.3)
    cpu0, switches0 = thread_totals(pid)
    threads = [threading.Thread(target=turn, args=(port, headers, body)) for _ in range(streams)]
    for thread in threads:
        thread.start()
    time.sleep(MEASURED_AFTER_S)
    cpu1, switches1 = thread_totals(pid)
    for thread in threads:
        thread.join()
    return (cpu1 - cpu0) / streams * 1e6, (switches1 - switches0) / streams


def report(name, samples):
    cpu = [c for c, _ in samples]
    switches = [s for _, s in samples]
    print(f"{name:7} setup CPU per turn: median {statistics.median(cpu):6.0f} µs (min {min(cpu):.0f}, max {max(cpu):.0f}); "
          f"context switches per turn: {statistics.median(switches):.1f}")
    return statistics.median(cpu)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sluice", default=".build/release/sluice")
    parser.add_argument("--streams", type=int, default=10)
    parser.add_argument("--bursts", type=int, default=30)
    args = parser.parse_args()
    sluice = os.path.abspath(args.sluice)
    folder = tempfile.mkdtemp(prefix="sluice-setup-bench.")
    processes = []
    try:
        simulator_port, sluice_port, relay_port = free_port(), free_port(), free_port()
        upstream = f"http://127.0.0.1:{simulator_port}/v1"

        def start(arguments):
            process = subprocess.Popen(
                [sluice, *arguments], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=folder)
            processes.append(process)
            return process

        simulator = start(["simulate", "--port", str(simulator_port), "--tokens", "1",
                           "--delay-ms", str(int(FIRST_TOKEN_DELAY_S * 1000))])
        wait_until_serving(f"http://127.0.0.1:{simulator_port}/health", simulator)
        db = os.path.join(folder, "bench.sqlite")
        token = add_unlimited_user(sluice, db)
        server = start(["serve", "--port", str(sluice_port), "--db", db, "--upstream", upstream, "--model", "sim",
                        "--log-level", "error", "--upstream-concurrency", "4096", "--upstream-queue", "4096"])
        wait_until_serving(f"http://127.0.0.1:{sluice_port}/healthz", server)
        relay = start(["bench", "relay", "--port", str(relay_port), "--upstream", upstream])
        wait_until_serving(f"http://127.0.0.1:{relay_port}/health", relay)

        print(f"{args.bursts} bursts of {args.streams} streamed turns, first token after {FIRST_TOKEN_DELAY_S * 1000:.0f} ms, "
              f"CPU read {MEASURED_AFTER_S * 1000:.0f} ms into each burst")
        body = json.dumps({"model": "sim", "stream": True, "messages": [
            {"role": "user", "content": "Tell me about the budget of a stream, please."}]}).encode()
        targets = [("relay", relay_port, relay.pid, {"Content-Type": "application/json"}),
                   ("sluice", sluice_port, server.pid, {"Content-Type": "application/json", "Authorization": f"Bearer {token}"})]
        # The two servers' bursts alternate, so that the machine's drift (other load, CPU steal) falls on both alike.
        samples = {name: [] for name, *_ in targets}
        for index in range(args.bursts + 3):
            for name, port, pid, headers in targets:
                result = burst(port, pid, headers, body, args.streams)
                if index >= 3:
                    samples[name].append(result)
        relay_cpu = report("relay", samples["relay"])
        sluice_cpu = report("sluice", samples["sluice"])
        print(f"sluice/relay: {sluice_cpu / relay_cpu:.2f}×")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
