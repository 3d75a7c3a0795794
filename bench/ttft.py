"""TTFT bench: the same prompts through Sluice and directly against its llama-server, in one run.

Starts `sluice serve --local-model …` (which supervises llama-server with SmolLM2) on free loopback ports,
then alternates N streamed requests through Sluice's API and N straight to llama-server's
/v1/chat/completions, and prints client-observed time to first token (p50/p95/p99), Sluice's added latency,
and Sluice's own server-side TTFT from the `done` events. Stops everything by itself.

Usage: python3 bench/ttft.py [--requests 30] [--sluice .build/release/sluice]
"""
import argparse
import json
import os
import statistics
import time
import urllib.request

from benchlib import percentile, start_local_sluice


def first_token_ms(url, body, headers, token_marker):
    """Posts `body`, reads the SSE stream; returns (ms to the first line containing token_marker, all lines)."""
    request = urllib.request.Request(url, data=json.dumps(body).encode(), headers=headers, method="POST")
    start = time.perf_counter()
    first = None
    lines = []
    with urllib.request.urlopen(request, timeout=120) as response:
        for raw in response:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            lines.append(line)
            if first is None and token_marker(line):
                first = (time.perf_counter() - start) * 1000
    return first, lines


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--sluice", default=os.path.join(".build", "release", "sluice"))
    args = parser.parse_args()
    server, base, token, upstream = start_local_sluice(args.sluice, "--max-output-tokens", "16")
    try:
        auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        request = urllib.request.Request(f"{base}/api/conversations", data=b"{}", headers=auth, method="POST")
        prompt = "Name one colour."
        via_sluice, direct, server_side = [], [], []
        for index in range(args.requests + 2):  # the first two warm up and are not counted
            conversation = json.load(urllib.request.urlopen(
                urllib.request.Request(f"{base}/api/conversations", data=b"{}", headers=auth, method="POST")))["id"]
            ms, lines = first_token_ms(f"{base}/api/conversations/{conversation}/messages",
                                       {"content": prompt, "temperature": 0}, auth,
                                       lambda line: line.startswith("event: token"))
            done = [json.loads(l[6:]) for i, l in enumerate(lines) if l.startswith("data: ") and lines[i - 1] == "event: done"]
            ms_direct, _ = first_token_ms(
                f"{upstream}/chat/completions",
                {"model": "x", "stream": True, "max_tokens": 16, "temperature": 0,
                 "messages": [{"role": "user", "content": prompt}]},
                {"Content-Type": "application/json"},
                lambda line: line.startswith("data: ") and '"content":"' in line and '"content":""' not in line)
            if index >= 2 and ms is not None and ms_direct is not None:
                via_sluice.append(ms)
                direct.append(ms_direct)
                if done and done[0].get("ttft_ms") is not None:
                    server_side.append(done[0]["ttft_ms"])
        rows = [("through Sluice", via_sluice), ("direct to llama-server", direct), ("Sluice server-side ttft_ms", server_side)]
        print(f"TTFT over {len(via_sluice)} requests, SmolLM2-135M on llama-server, prompt {prompt!r}")
        print(f"{'':28} {'p50':>8} {'p95':>8} {'p99':>8}")
        for name, values in rows:
            if values:
                print(f"{name:28} {percentile(values, 50):8.1f} {percentile(values, 95):8.1f} {percentile(values, 99):8.1f}  ms")
        added = [a - b for a, b in zip(via_sluice, direct)]
        print(f"{'added by Sluice':28} {percentile(added, 50):8.1f} {percentile(added, 95):8.1f} {percentile(added, 99):8.1f}  ms"
              f"  (ratio of medians {statistics.median(via_sluice) / statistics.median(direct):.2f})")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
