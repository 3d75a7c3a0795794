"""Runs every chaos scenario once through a real `sluice serve` and the simulator, and prints what a client saw.

For each scenario: the events in order (runs of one kind folded: `token×12`), the final code, the announced
retry waits next to the waits observed on the wire, the stored status, and the time to the first token. Then
the overhead of one retry decision: time to first token after one `429 Retry-After: 1`, minus the announced
second, minus an undisturbed turn's time to first token (medians of several runs). Then 200 concurrent turns
with random faults. Everything runs on loopback and stops by itself (about a minute: the long back-off
scenarios run side by side).

    python3 bench/chaos.py [path/to/sluice]
"""
import concurrent.futures
import http.client
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import add_unlimited_user, free_port, percentile, wait_until_serving  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SLUICE = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, ".build", "release", "sluice")
# Generous defaults, so that 200 concurrent turns on 2 cores do not time out; the model `sim-stall-first` has
# its own short first-token timeout (in the models file) to show the hand-over to its fallback.
FIRST_TOKEN_TIMEOUT_MS = 8000
IDLE_TIMEOUT_MS = 4000
STALL_MS = 10000

# (label, X-Sluice-Scenario header or None, conversation model)
SCENARIOS = [
    ("ok", None, "sim"),
    ("429 Retry-After: 1 (s)", "429", "sim"),
    ("429 Retry-After: HTTP-date +5 s", "429-date", "sim"),
    ("429 without Retry-After", "429-bare", "sim"),
    ("429 Retry-After: 120 (over budget)", "429-long", "sim"),
    ("503 twice, then success", "503x2", "sim"),
    ("500 always, fallback to sim", None, "sim-500"),
    ("400", "400", "sim"),
    ("401", "401", "sim"),
    ("403", "403", "sim"),
    ("stall before first token", "stall-first", "sim"),
    ("stall before first token, fallback", None, "sim-stall-first"),
    ("stall mid-stream", "stall-mid", "sim"),
    ("connection reset mid-stream", "reset-mid", "sim"),
    ("error object mid-stream", "error-mid", "sim"),
    ("malformed JSON chunk", "malformed", "sim"),
    ("no usage chunk", "no-usage", "sim"),
    ("CRLF, comments, split UTF-8", "split", "sim"),
]


def models_file(simulator):
    base = f"http://127.0.0.1:{simulator}/v1"
    text = "models:\n"
    for name, extra in [("sim", ""), ("sim-500", "    fallbacks: [sim]\n"),
                        ("sim-stall-first", "    first_token_timeout_ms: 1500\n    fallbacks: [sim]\n")]:
        text += f"  - name: {name}\n    kind: openai\n    base_url: {base}\n{extra}"
    path = os.path.join(tempfile.mkdtemp(prefix="sluice-chaos-"), "models.yml")
    with open(path, "w") as handle:
        handle.write(text)
    return path


class Client:
    def __init__(self, port, token):
        self.port, self.token = port, token

    def api(self, method, path, body=None):
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", method=method,
            data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def stream(self, path, body=None, headers=None, method="POST", stop_after_tokens=None, on_token=None):
        """Reads an SSE response; returns [(seconds since start, event, data dict)]."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        start = time.monotonic()
        connection.request(method, path, body=None if body is None else json.dumps(body),
                           headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                                    **(headers or {})})
        response = connection.getresponse()
        if response.status != 200:
            return [(time.monotonic() - start, f"http {response.status}", json.loads(response.read() or b"{}"))]
        events, name, data, tokens, last_id = [], "message", "", 0, None
        for raw in response:
            line = raw.decode().rstrip("\r\n")
            if line.startswith("id:"):
                last_id = line[3:].strip()
            elif line.startswith("event:"):
                name = line[6:].strip()
            elif line.startswith("data:"):
                data += line[5:].strip()
            elif line == "" and data:
                payload = json.loads(data)
                if isinstance(payload, dict) and last_id:
                    payload["_id"] = last_id
                events.append((time.monotonic() - start, name, payload))
                if name == "token":
                    tokens += 1
                    if stop_after_tokens is not None and tokens == stop_after_tokens:
                        if on_token:
                            on_token(events[-1][2])
                        connection.close()
                        return events
                name, data = "message", ""
        connection.close()
        return events

    def turn(self, model, scenario, content="Hello there"):
        conversation = self.api("POST", "/api/conversations", {"model": model})["id"]
        headers = {"X-Sluice-Scenario": scenario} if scenario else {}
        events = self.stream(f"/api/conversations/{conversation}/messages", {"content": content}, headers)
        return conversation, events


def fold(names):
    out = []
    for name in names:
        if out and out[-1][0] == name:
            out[-1][1] += 1
        else:
            out.append([name, 1])
    return ", ".join(name if count == 1 else f"{name}×{count}" for name, count in out)


def stored(client, conversation):
    messages = client.api("GET", f"/api/conversations/{conversation}")["messages"]
    return "/".join(f"{m['role'][0]}:{m['status']}" for m in messages)


def describe(client, label, conversation, events):
    names = [name for _, name, _ in events]
    final = events[-1][2] if events else {}
    statuses = [(t, d) for t, n, d in events if n == "status"]
    # The observed wait: from the status event to the next event (the next status, the first token or the end).
    observed = []
    for t, data in statuses:
        later = [u for u, _, _ in events if u > t]
        if data.get("state") == "retrying" and later:
            observed.append(f"{data['wait_ms']}→{round((later[0] - t) * 1000)}")
    first = next((t for t, n, _ in events if n == "token"), None)
    end = final.get("code") or final.get("finish_reason") or ""
    if any(d.get("state") == "fallback" for _, d in statuses):
        end += f" model={final.get('model')}"
    if final.get("partial") is not None:
        end += f" partial={str(final['partial']).lower()}"
    return {
        "scenario": label, "events": fold(names), "end": end.strip(),
        "waits": " ".join(observed) or "-", "ttft": f"{first * 1000:.0f}" if first else "-",
        "stored": stored(client, conversation),
    }


def table(rows, columns):
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print(" | ".join(c.ljust(widths[c]) for c in columns))
    print("-|-".join("-" * widths[c] for c in columns))
    for row in rows:
        print(" | ".join(str(row[c]).ljust(widths[c]) for c in columns))


def main():
    if not os.path.exists(SLUICE):
        sys.exit(f"{SLUICE} is missing: build it (swift build -c release) or pass its path")
    workdir = tempfile.mkdtemp(prefix="sluice-chaos-")
    db = os.path.join(workdir, "db.sqlite")
    simulator, port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("SLUICE_")}
    processes = [subprocess.Popen(
        [SLUICE, "simulate", "--port", str(simulator), "--tokens", "24", "--delay-ms", "20",
         "--stall-ms", str(STALL_MS)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        token = add_unlimited_user(SLUICE, db, name="chaos", env=env)
        processes.append(subprocess.Popen(
            [SLUICE, "serve", "--port", str(port), "--db", db, "--model", "sim", "--models", models_file(simulator),
             "--upstream", f"http://127.0.0.1:{simulator}/v1", "--forward-scenario-header",
             "--first-token-timeout-ms", str(FIRST_TOKEN_TIMEOUT_MS), "--idle-timeout-ms", str(IDLE_TIMEOUT_MS),
             "--breaker-failures", "0", "--log-level", "error", "--no-prompt-guard"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))
        wait_until_serving(f"http://127.0.0.1:{port}/healthz", processes[-1])
        client = Client(port, token)
        run(client)
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


def run(client):
    print(f"Chaos scenarios through sluice serve + sluice simulate (24 tokens, 20 ms apart; first-token timeout "
          f"{FIRST_TOKEN_TIMEOUT_MS} ms, 1500 ms for sim-stall-first; idle timeout {IDLE_TIMEOUT_MS} ms; stalls "
          f"{STALL_MS} ms). waits: announced→observed ms; stored: u(ser)/a(ssistant) status\n")
    with concurrent.futures.ThreadPoolExecutor(len(SCENARIOS)) as pool:
        futures = [pool.submit(client.turn, model, scenario) for _, scenario, model in SCENARIOS]
        results = [f.result() for f in futures]
    rows = [describe(client, label, conversation, events)
            for (label, _, _), (conversation, events) in zip(SCENARIOS, results)]

    # The client leaves after 5 tokens, then resumes from the last id it saw.
    conversation = client.api("POST", "/api/conversations", {"model": "sim"})["id"]
    seen = {}
    first = client.stream(f"/api/conversations/{conversation}/messages", {"content": "Hello there"},
                          stop_after_tokens=5, on_token=lambda data: seen.update(data))
    message = next(d for _, n, d in first if n == "meta")["assistant_message_id"]
    rest = client.stream(f"/api/messages/{message}/events", method="GET", headers={"Last-Event-ID": seen["_id"]})
    text = "".join(d["token"] for _, n, d in first + rest if n == "token")
    full = client.api("GET", f"/api/messages/{message}")["content"]
    rows.append({"scenario": "client leaves after 5 tokens, resumes", "events": fold([n for _, n, _ in first])
                 + " | resume: " + fold([n for _, n, _ in rest]), "end": rest[-1][2].get("finish_reason", ""),
                 "waits": "-", "ttft": f"{first[1][0] * 1000:.0f}",
                 "stored": stored(client, conversation) + (" (text identical)" if text == full else " (TEXT DIFFERS)")})

    # Cancel after 5 tokens, on the same stream.
    conversation = client.api("POST", "/api/conversations", {"model": "sim"})["id"]
    holder = {}

    def cancel(data):
        holder["at"] = data["_id"]
    events = client.stream(f"/api/conversations/{conversation}/messages", {"content": "Hello there"},
                           stop_after_tokens=5, on_token=cancel)
    message = next(d for _, n, d in events if n == "meta")["assistant_message_id"]
    client.api("POST", f"/api/messages/{message}/cancel")
    after = client.stream(f"/api/messages/{message}/events", method="GET", headers={"Last-Event-ID": holder["at"]})
    rows.append({"scenario": "cancel after 5 tokens", "events": fold([n for _, n, _ in events]) + " | then: "
                 + fold([n for _, n, _ in after]), "end": after[-1][2].get("finish_reason", ""), "waits": "-",
                 "ttft": f"{events[1][0] * 1000:.0f}", "stored": stored(client, conversation)})
    table(rows, ["scenario", "events", "end", "waits", "ttft", "stored"])

    # The cost of deciding to retry: one 429 with Retry-After: 1 against undisturbed turns.
    plain = [next(t for t, n, _ in client.turn("sim", None)[1] if n == "token") for _ in range(15)]
    retried = []
    for i in range(5):
        _, events = client.turn("sim", "429x1", content=f"retry probe {i}")
        retried.append(next(t for t, n, _ in events if n == "token"))
    overhead = (percentile(retried, 50) - 1.0 - percentile(plain, 50)) * 1000
    print(f"\nTTFT undisturbed p50 {percentile(plain, 50) * 1000:.1f} ms (15 turns); after one 429 Retry-After: 1 "
          f"p50 {percentile(retried, 50) * 1000:.1f} ms (5 turns): a retry decision adds {overhead:.1f} ms "
          f"beyond the 1 000 ms asked for")

    # 200 concurrent turns with random faults.
    faults = [None, None, "429x1", "503x1", "reset-mid", "error-mid", "malformed", "no-usage", "split", "400"]
    rng = random.Random(7)
    picks = [rng.choice(faults) for _ in range(200)]
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(200) as pool:
        turns = list(pool.map(lambda s: client.turn("sim", s[1], content=f"load {s[0]} {s[1]}"), enumerate(picks)))
    elapsed = time.monotonic() - start
    # Nothing lost: the user's message is stored, and the answer is stored as streamed with the matching status.
    expected_status = {"done": "complete"}
    kept = 0
    for conversation, events in turns:
        messages = client.api("GET", f"/api/conversations/{conversation}")["messages"]
        final = events[-1] if events else (0, "nothing", {})
        status = expected_status.get(final[1]) or ("partial" if final[2].get("partial") else "error")
        text = "".join(d["token"] for _, n, d in events if n == "token")
        kept += (len(messages) == 2 and messages[0]["status"] == "complete" and messages[1]["status"] == status
                 and messages[1]["content"] == text)
    by_fault = {}
    for fault, (_, events) in zip(picks, turns):
        last = events[-1] if events else (0, "nothing", {})
        end = last[2].get("code") or last[2].get("finish_reason") or last[1]
        key = (fault or "ok", end)
        by_fault[key] = by_fault.get(key, 0) + 1
    print(f"\n200 concurrent turns with random faults in {elapsed:.1f} s (fault → how it ended × turns):")
    for (fault, end), count in sorted(by_fault.items()):
        print(f"  {fault:10} → {end:22} × {count}")
    print(f"  stored exactly as streamed (user message kept, answer text and status match): {kept}/200")


if __name__ == "__main__":
    main()
