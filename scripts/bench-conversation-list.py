#!/usr/bin/env python3
"""How long the web app's conversation list takes for a user with many conversations: a real `sluice serve` (release
build, SQLite, or PostgreSQL with --db) on loopback, one user given N conversations by import (a fifth of them moved into a project), then
each request below sent R times over one keep-alive connection. Prints p50/p95 wall time, the server's CPU time per
request (from /proc) and the bytes of each answer. Stops everything it started.

    python3 scripts/bench-conversation-list.py [--conversations 5000] [--rounds 30] [--sluice .build/release/sluice]
"""
import argparse
import json
import os
import shutil
import subprocess
import tempfile
import time
from datetime import datetime, timedelta, timezone

from benchlib import Client, cpu_seconds, free_port, percentile, wait_for


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--conversations", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--messages", type=int, default=2, help="messages in each conversation (half questions)")
    parser.add_argument("--sluice", default=".build/release/sluice")
    parser.add_argument("--db", help="postgres://… to measure on PostgreSQL (an empty database); default: a new SQLite file")
    args = parser.parse_args()
    workdir = tempfile.mkdtemp(prefix="sluice-list-bench-")
    db = args.db or os.path.join(workdir, "db.sqlite")
    port = free_port()
    token = subprocess.run([args.sluice, "user", "add", "bench", "--plan", "unlimited", "--db", db], check=True,
                           capture_output=True, text=True).stdout.strip().splitlines()[-1]
    server = subprocess.Popen(
        [args.sluice, "serve", "--port", str(port), "--db", db, "--upstream", "http://127.0.0.1:9/v1", "--model", "m",
         "--title-model", "off", "--web-root", "web"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={key: value for key, value in os.environ.items() if not key.startswith("SLUICE_")})
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz")
        client = Client(port, token)

        def call(method, path, body=None):
            return client.call(method, path, body)[0]

        start = datetime(2026, 1, 1, tzinfo=timezone.utc)
        batch = []
        for index in range(args.conversations):
            at = (start + timedelta(minutes=index)).isoformat().replace("+00:00", "Z")
            # About 200 characters a message; one word in all, one in a single conversation only.
            filler = "The quick brown fox jumps over the lazy dog while the gateway streams tokens to the browser. " * 2
            batch.append({"title": f"Conversation {index}", "created_at": at, "messages": [
                {"role": "user" if turn % 2 == 0 else "assistant", "content": f"{filler} marker{index} turn {turn}", "created_at": at}
                for turn in range(args.messages)]})
            if len(batch) == max(1, 2000 // args.messages) or index == args.conversations - 1:
                call("POST", "/api/conversations/import", batch)
                batch = []
        # One long conversation too, opened as the web app opens one (its messages and how full its window is).
        long_turns = [{"role": "user" if turn % 2 == 0 else "assistant", "content": f"{filler} long turn {turn}",
                       "created_at": "2025-06-01T00:00:00Z"} for turn in range(1000)]
        long_one = json.loads(call("POST", "/api/conversations/import", [{"title": "Long", "messages": long_turns}]))
        long_id = long_one["conversations"][0]["id"]
        project = json.loads(call("POST", "/api/projects", {"name": "A fifth"}))["id"]
        listed = json.loads(call("GET", "/api/conversations"))["conversations"]
        for conversation in listed[::5]:
            call("PATCH", f"/api/conversations/{conversation['id']}", {"project_id": project})

        requests = [
            ("the whole list (before paging)", "/api/conversations"),
            ("first page in no project (limit 50)", "/api/conversations?project_id=none&limit=50"),
            ("the project's first page (limit 50)", f"/api/conversations?project_id={project}&limit=50"),
            ("the projects, with their counts", "/api/projects"),
            ("a search for a word in one conversation", f"/api/conversations?q=marker{args.conversations // 2}"),
            ("a search for a word in all (first 50)", "/api/conversations?q=gateway"),
            ("a conversation of 1 000 messages", f"/api/conversations/{long_id}"),
        ]
        print(f"{len(listed)} conversations of {args.messages} messages (one of 1 000; {len(listed[::5])} in a project), {args.rounds} requests each, "
              "one keep-alive connection")
        print(f"{'request':40} {'p50 ms':>8} {'p95 ms':>8} {'CPU ms/req':>10} {'bytes':>9}")
        for name, path in requests:
            call("GET", path)  # warm
            times = []
            cpu_before = cpu_seconds(server.pid)
            for _ in range(args.rounds):
                began = time.perf_counter()
                size = len(call("GET", path))
                times.append((time.perf_counter() - began) * 1000)
            cpu = (cpu_seconds(server.pid) - cpu_before) * 1000 / args.rounds
            print(f"{name:40} {percentile(times, 0.5):8.2f} {percentile(times, 0.95):8.2f} {cpu:10.2f} {size:9}")
    finally:
        server.terminate()
        server.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
