#!/usr/bin/env python3
"""What long project files cost a turn: a real `sluice serve` (release build, SQLite) and its simulator on loopback,
a models file with an 8 192-token and a 128 000-token model, one project with 4 files of about 100 000 characters
(the most a project holds), then turns in new conversations — outside the project, and in it on each model, where
the files go as excerpts. Prints p50/p95 of each turn's time and of Sluice's `Server-Timing` steps, and the first
turn of a new project (which cuts and indexes the files). Stops everything it started.

    python3 scripts/bench-project-excerpts.py [--rounds 25] [--sluice .build/release/sluice]
"""
import argparse
import json
import os
import random
import shutil
import subprocess
import tempfile
import time

from benchlib import Client, free_port, percentile, wait_for


def steps(server_timing):
    """`request;dur=0.2;desc="…", guard;dur=…` → {"request": 0.2, …}."""
    found = {}
    for part in (server_timing or "").split(","):
        fields = part.strip().split(";")
        for field in fields[1:]:
            if field.startswith("dur="):
                found[fields[0]] = float(field[4:])
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=25)
    parser.add_argument("--sluice", default=".build/release/sluice")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="sluice-excerpt-bench-")
    db = os.path.join(workdir, "db.sqlite")
    simulator_port, port = free_port(), free_port()
    with open(os.path.join(workdir, "models.yml"), "w") as models:
        models.write("models:\n")
        for name, window in [("small", 8192), ("large", 128000)]:
            models.write(f"  - name: {name}\n    kind: openai\n    base_url: http://127.0.0.1:{simulator_port}/v1\n"
                         f"    context_window: {window}\n")
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SLUICE_")}
    token = subprocess.run([args.sluice, "user", "add", "bench", "--plan", "unlimited", "--db", db], check=True,
                           capture_output=True, text=True, env=environment).stdout.strip().splitlines()[-1]
    processes = [
        subprocess.Popen([args.sluice, "simulate", "--port", str(simulator_port), "--tokens", "8", "--delay-ms", "1"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment),
        subprocess.Popen([args.sluice, "serve", "--port", str(port), "--db", db, "--models",
                          os.path.join(workdir, "models.yml"), "--title-model", "off", "--web-root", "web"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment),
    ]
    try:
        wait_for(f"http://127.0.0.1:{simulator_port}/health")
        wait_for(f"http://127.0.0.1:{port}/healthz")
        client = Client(port, token)

        def call(method, path, body=None):
            data, headers = client.call(method, path, body)
            return data, headers.get("Server-Timing")

        random.seed(1)
        vocabulary = ["".join(random.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(random.randint(3, 9)))
                      for _ in range(3000)]

        def notes(characters):
            paragraphs, size = [], 0
            while size < characters:
                paragraph = "\n".join(" ".join(random.choice(vocabulary) for _ in range(12)) + "." for _ in range(4))
                paragraphs.append(paragraph)
                size += len(paragraph) + 2
            return "\n\n".join(paragraphs)

        def project(name):
            made = json.loads(call("POST", "/api/projects", {"name": name})[0])["id"]
            for index in range(4):
                call("POST", f"/api/projects/{made}/files", {"name": f"notes-{index}.md", "text": notes(99_000)})
            return made

        def turn(model, project_id):
            body = {"model": model}
            if project_id:
                body["project_id"] = project_id
            conversation = json.loads(call("POST", "/api/conversations", body)[0])["id"]
            question = f"What does {random.choice(vocabulary)} {random.choice(vocabulary)} mean?"
            started = time.perf_counter()
            data, timing = call("POST", f"/api/conversations/{conversation}/messages", {"content": question})
            elapsed = (time.perf_counter() - started) * 1000
            if b"event: done" not in data:
                raise SystemExit(f"the turn failed: {data[:300]!r}")
            return elapsed, steps(timing)

        big = project("Big")
        print(f"{args.rounds} turns each, after 5 warm-ups; ms (p50 / p95)")
        print(f"{'turn':<44} {'whole turn':>15} {'request':>15} {'hold':>15} {'overhead':>15}")
        for label, model, project_id in [("no project (8 192-token model)", "small", None),
                                         ("in the project, 8 192-token model", "small", big),
                                         ("in the project, 128 000-token model", "large", big)]:
            rows = [turn(model, project_id) for _ in range(args.rounds + 5)][5:]

            def figure(values):
                return f"{percentile(values, 0.5):.2f} / {percentile(values, 0.95):.2f}"
            print(f"{label:<44} {figure([r[0] for r in rows]):>15} {figure([r[1].get('request', 0) for r in rows]):>15}"
                  f" {figure([r[1].get('hold', 0) for r in rows]):>15} {figure([r[1].get('overhead', 0) for r in rows]):>15}")
        firsts = [turn("small", project(f"New {index}"))[1].get("request", 0) for index in range(3)]
        print("the first turn of a new project (its files cut and indexed): request step "
              + ", ".join(f"{value:.1f}" for value in firsts) + " ms")
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=30)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
