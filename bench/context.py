"""Context bench: one long conversation with the local model, what each turn sends with and without Sluice's
context management.

Starts `sluice serve --local-model …` (SmolLM2 on llama-server, a 2 048-token window per slot, so the input
budget is 1 024 tokens after the output reserve) on a free loopback port, sends --turns questions in one
conversation, and prints per turn: the input tokens the whole history would need (every message sent in full,
as a gateway without context management does), the input tokens Sluice sent (`meta.context.input_tokens`),
how many messages went in full or as the summary, how many were folded that turn, and the server-side TTFT
(a fold runs the summariser before the turn). Then the final summary. Stops everything by itself.

Usage: python3 bench/context.py [--turns 24] [--sluice .build/release/sluice]
"""
import argparse
import json
import os
import urllib.request

from benchlib import start_local_sluice

QUESTIONS = [
    "My name is Ada and I am planning a trip to Lisbon in May. What should I pack?",
    "I am vegetarian. Which Portuguese dishes can I eat?",
    "How do I get from the airport to the city centre?",
    "What is a good day trip from Lisbon by train?",
    "I have a budget of 900 euros for the whole week. Is that enough?",
    "Which neighbourhood is best for a first visit?",
    "What are the opening hours of most museums?",
    "Is it safe to walk at night in the old town?",
    "Suggest a three-day itinerary.",
    "What phrases in Portuguese should I learn?",
    "How much should I tip in restaurants?",
    "Can I use my credit card everywhere?",
]


def call(method, url, headers, body=None):
    data = None if body is None else json.dumps(body).encode()
    with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers, method=method), timeout=300) as r:
        return json.load(r)


def turn(url, headers, content):
    request = urllib.request.Request(url, data=json.dumps({"content": content, "temperature": 0}).encode(),
                                     headers=headers, method="POST")
    events, name = {}, None
    with urllib.request.urlopen(request, timeout=300) as response:
        for raw in response:
            line = raw.decode("utf-8", "replace").rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: ") and name in ("meta", "done", "error"):
                events[name] = json.loads(line[6:])
    return events


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=24)
    parser.add_argument("--sluice", default=os.path.join(".build", "release", "sluice"))
    args = parser.parse_args()
    server, base, token, upstream = start_local_sluice(args.sluice, "--max-output-tokens", "120")
    upstream = upstream.removesuffix("/v1")
    try:
        def prompt_tokens(messages):
            """The exact input tokens of `messages` for the served model: llama-server's template and tokenizer."""
            prompt = call("POST", f"{upstream}/apply-template", {"Content-Type": "application/json"}, {"messages": messages})["prompt"]
            return len(call("POST", f"{upstream}/tokenize", {"Content-Type": "application/json"},
                            {"content": prompt, "add_special": True})["tokens"])

        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        system_prompt = "You are a concise travel assistant. Answer in at most three sentences."
        conversation = call("POST", f"{base}/api/conversations", headers, {"system_prompt": system_prompt})["id"]
        print(f"{'turn':>4} {'full history':>12} {'sent':>6} {'in full':>7} {'summarised':>10} {'folded now':>10} {'ttft ms':>8}")
        totals = [0, 0]
        for index in range(args.turns):
            question = QUESTIONS[index % len(QUESTIONS)]
            # Without context management every earlier message is sent in full, as most gateways do.
            stored = call("GET", f"{base}/api/conversations/{conversation}", headers)["messages"]
            full = prompt_tokens([{"role": "system", "content": system_prompt}]
                                 + [{"role": m["role"], "content": m["content"]} for m in stored if m["content"]]
                                 + [{"role": "user", "content": question}])
            events = turn(f"{base}/api/conversations/{conversation}/messages", headers, question)
            context = events.get("meta", {}).get("context", {})
            sent = context.get("input_tokens")
            done = events.get("done") or {}
            totals[0] += full or 0
            totals[1] += sent or 0
            print(f"{index + 1:>4} {full if full is not None else '-':>12} {sent if sent is not None else '-':>6} "
                  f"{context.get('messages_in_full', '-'):>7} {context.get('messages_summarised', '-'):>10} "
                  f"{context.get('summarised_now', '-'):>10} {done.get('ttft_ms', '-'):>8}")
            if "error" in events:
                print("  error:", events["error"].get("message"))
        print(f"input tokens over {args.turns} turns: {totals[0]} with the full history, {totals[1]} sent by Sluice "
              f"({100 * totals[1] / max(1, totals[0]):.0f} %)")
        view = call("GET", f"{base}/api/conversations/{conversation}/context", headers)
        if view.get("summary"):
            print(f"summary of {view['summary']['messages']} messages, {view['summary']['tokens']} tokens:\n  {view['summary']['text']}")
    finally:
        server.terminate()
        server.wait(timeout=20)


if __name__ == "__main__":
    main()
