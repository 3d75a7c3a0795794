"""`sluice serve --db postgres://…`: two real server processes on one PostgreSQL share users and conversations."""
import glob
import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

import pytest

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import SLUICE, Server, free_port, wait_for
from test_conversation_edit_ui import open_as
from test_chat_ui import WebDriverWait
from test_unsent_ui import assert_given_back, thread

POSTGRES = os.environ.get("SLUICE_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not POSTGRES and os.environ.get("SLUICE_REQUIRE_POSTGRES") != "1",
                                reason="no PostgreSQL (./sluice.sh test starts one)")


def fresh_database():
    """A new database on the test server, as a URL with a password in it (the server trusts loopback, so any
    password works: the point is that it must never be printed)."""
    assert POSTGRES, "SLUICE_REQUIRE_POSTGRES=1 but SLUICE_TEST_POSTGRES_URL is unset"
    name = "sluice_e2e_" + uuid.uuid4().hex
    parts = urllib.parse.urlsplit(POSTGRES)
    subprocess.run(["psql", POSTGRES.split("?")[0], "-q", "-c", f"CREATE DATABASE {name}"], check=True)
    netloc = f"{parts.username}:s3cret-pw@{parts.hostname}:{parts.port}"
    return urllib.parse.urlunsplit((parts.scheme, netloc, "/" + name, parts.query, ""))


def call(base, token, method, path, body=None):
    request = urllib.request.Request(
        base + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read().decode()


def test_two_instances_share_one_postgres_database(server):
    db = fresh_database()
    token = subprocess.run([SLUICE, "user", "add", "pg-user", "--plan", "pro", "--db", db],
                           check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    workdir = tempfile.mkdtemp(prefix="sluice-pg-")
    ports = [free_port(), free_port()]
    logs = [open(os.path.join(workdir, f"serve-{port}.log"), "w+") for port in ports]
    processes = [subprocess.Popen(
        [SLUICE, "serve", "--port", str(port), "--db", db, "--model", "sim",
         "--upstream", f"http://127.0.0.1:{server.simulator_port}/v1"],
        stdout=log, stderr=subprocess.STDOUT,
        env={key: value for key, value in os.environ.items() if not key.startswith("SLUICE_")})
        for port, log in zip(ports, logs)]
    try:
        for port in ports:
            wait_for(f"http://127.0.0.1:{port}/healthz")
        first, second = (f"http://127.0.0.1:{port}" for port in ports)
        status, body = call(first, token, "POST", "/api/conversations", {"title": "over two"})
        conversation = json.loads(body)["id"]
        status, stream = call(first, token, "POST", f"/api/conversations/{conversation}/messages",
                              {"content": "Hello from instance one"})
        assert status == 200 and "event: done" in stream

        # The other instance sees the same user, the conversation and both messages, and the same budget.
        status, body = call(second, token, "GET", f"/api/conversations/{conversation}")
        messages = json.loads(body)["messages"]
        assert [(m["role"], m["status"]) for m in messages] == [("user", "complete"), ("assistant", "complete")]
        assert messages[0]["content"] == "Hello from instance one"
        status, body = call(second, token, "GET", "/api/usage/limits")
        assert json.loads(body)["used"] == messages[1]["usage"]["total_tokens"] > 0
        listed = subprocess.run([SLUICE, "user", "list", "--db", db], check=True, capture_output=True, text=True).stdout
        assert "pg-user" in listed

        # The password in the URL never reaches the logs; the banner names the database with it masked.
        for process in processes:
            process.terminate()
            process.wait(timeout=15)
        for log in logs:
            log.seek(0)
            text = log.read()
            assert "s3cret-pw" not in text
            assert "***" in text
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()


def test_a_database_that_goes_away_gives_503_database_unavailable_not_a_hang(browser, server):
    """Its own PostgreSQL, stopped under a running Sluice: requests answer 503 with a message, /readyz says why, and a
    message sent from the page meanwhile comes back to the message box, and a regenerate leaves the answer there."""
    pg_dir = tempfile.mkdtemp(prefix="sluice-e2e-pg-")
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts", "test-postgres.sh")
    url = subprocess.run([script, "start", pg_dir], check=True, capture_output=True, text=True).stdout.strip().split("=", 1)[1]
    port = free_port()
    process = None
    try:
        token = subprocess.run([SLUICE, "user", "add", "pg-gone", "--db", url], check=True, capture_output=True,
                               text=True).stdout.strip().splitlines()[-1]
        process = subprocess.Popen(
            [SLUICE, "serve", "--port", str(port), "--db", url, "--model", "sim",
             "--upstream", f"http://127.0.0.1:{server.simulator_port}/v1"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={key: value for key, value in os.environ.items() if not key.startswith("SLUICE_")})
        base = f"http://127.0.0.1:{port}"
        wait_for(base + "/healthz")
        assert call(base, token, "GET", "/api/conversations")[0] == 200
        call(base, token, "POST", "/api/conversations", {"title": "before"})
        open_as(browser, Server(base, token, server.simulator_port, url), token)
        browser.find_element(By.ID, "input").send_keys("Name three rivers", Keys.ENTER)
        WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.assistant button.regenerate"))
        before = thread(browser)
        subprocess.run([script, "stop", pg_dir], check=True)

        # postgres-nio's pool retries connecting for a while (requests wait meanwhile), then gives up: from then
        # on every request is answered at once, as 503 with a message.
        deadline = time.monotonic() + 90
        while True:
            answered = None
            try:
                call(base, token, "GET", "/api/conversations")
            except urllib.error.HTTPError as error:
                answered = (error.code, json.loads(error.read())["error"])
            except (TimeoutError, urllib.error.URLError):
                pass  # still waiting for the pool
            if answered and answered[0] == 503 or time.monotonic() > deadline:
                break
            time.sleep(0.5)
        assert answered and answered[0] == 503, answered
        assert answered[1]["code"] == "database_unavailable" and "database" in answered[1]["message"]
        started = time.monotonic()
        with pytest.raises(urllib.error.HTTPError) as again:
            call(base, token, "POST", "/api/conversations", {"title": "while down"})
        assert again.value.code == 503 and time.monotonic() - started < 5
        started = time.monotonic()
        with pytest.raises(urllib.error.HTTPError) as ready:
            urllib.request.urlopen(base + "/readyz", timeout=30)
        assert ready.value.code == 503 and time.monotonic() - started < 10
        text = "Words typed while the database is down"
        browser.find_element(By.ID, "input").send_keys(text, Keys.ENTER)
        assert_given_back(browser, text, "cannot reach its database")
        browser.execute_script("document.getElementById('banner').textContent = ''")
        browser.find_element(By.CSS_SELECTOR, ".message.assistant button.regenerate").click()
        WebDriverWait(browser, 15).until(lambda d: "cannot reach its database" in d.find_element(By.ID, "banner").text)
        assert thread(browser) == before
        assert not browser.find_elements(By.CSS_SELECTOR, ".message.error, .message.streaming")
    finally:
        if process:
            process.terminate()
            process.wait(timeout=15)
        subprocess.run([script, "stop", pg_dir])
        subprocess.run(["rm", "-rf", pg_dir])


def test_an_answer_whose_end_the_database_did_not_take_is_stored_when_sluice_starts_again(server):
    """A streamed answer whose PostgreSQL stops under it reaches its client whole; its end, kept to write again, is in
    a file when Sluice is killed; PostgreSQL back, the next start — on another port: the ends belong to the database,
    not to the port — stores the answer whole and charges it."""
    script = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "scripts", "test-postgres.sh")
    pg_dir = tempfile.mkdtemp(prefix="sluice-e2e-pg-")
    workdir = tempfile.mkdtemp(prefix="sluice-e2e-ends-")
    url = subprocess.run([script, "start", pg_dir], check=True, capture_output=True, text=True).stdout.strip().split("=", 1)[1]
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def serve(port):
        process = subprocess.Popen(
            [SLUICE, "serve", "--port", str(port), "--db", url, "--model", "sim", "--title-model", "off",
             "--upstream", f"http://127.0.0.1:{server.simulator_port}/v1"],
            cwd=workdir, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={key: value for key, value in os.environ.items() if not key.startswith("SLUICE_")})
        wait_for(f"http://127.0.0.1:{port}/healthz")
        return process

    process = None
    try:
        token = subprocess.run([SLUICE, "user", "add", "pg-ends", "--plan", "pro", "--db", url], check=True,
                               capture_output=True, text=True).stdout.strip().splitlines()[-1]
        process = serve(port)
        # The simulator's answer: 120 tokens 25 ms apart. PostgreSQL stops once the first has arrived.
        request = urllib.request.Request(
            base + "/v1/chat/completions", method="POST",
            data=json.dumps({"model": "sim", "stream": True, "messages": [{"role": "user", "content": "Keep this"}]}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        pieces = []
        with urllib.request.urlopen(request, timeout=120) as response:
            message_id = response.headers["X-Sluice-Message-Id"]
            for line in response:
                line = line.decode().strip()
                if line == "data: [DONE]":
                    pieces.append(None)
                    break
                if line.startswith("data: {"):
                    delta = json.loads(line[6:])["choices"]
                    if delta and delta[0]["delta"].get("content"):
                        if not pieces:
                            subprocess.run([script, "stop", pg_dir], check=True)
                        pieces.append(delta[0]["delta"]["content"])
        assert pieces[-1] is None, "the client got the whole answer and [DONE]"
        streamed = "".join(pieces[:-1])
        # Not taken by the database: kept in its file (in ./data of the server's folder), then the server is killed.
        deadline = time.monotonic() + 30
        while not glob.glob(os.path.join(workdir, "data", "unsaved-ends-*.jsonl")) and time.monotonic() < deadline:
            time.sleep(0.1)
        [kept] = glob.glob(os.path.join(workdir, "data", "unsaved-ends-*.jsonl"))
        assert message_id in open(kept).read()
        process.kill()
        process.wait(timeout=10)

        subprocess.run([script, "again", pg_dir], check=True)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        process = serve(port)
        status, body = call(base, token, "GET", f"/api/messages/{message_id}")
        stored = json.loads(body)
        assert stored["status"] == "complete" and stored["content"] == streamed, stored
        assert stored["usage"]["output_tokens"] == 120
        assert not os.path.exists(kept)
        usage = json.loads(call(base, token, "GET", "/api/usage?period=today")[1])
        assert usage["totals"]["output_tokens"] == 120, usage["totals"]
    finally:
        if process:
            process.kill()
            process.wait(timeout=10)
        subprocess.run([script, "stop", pg_dir])
        subprocess.run(["rm", "-rf", pg_dir, workdir])


def test_two_instances_share_the_response_cache_through_the_openai_sdk(server):
    """`--response-cache-seconds`: an answer one instance wrote is served by the other to the identical call, with
    no upstream call and nothing charged; `Cache-Control: no-cache` asks the model again."""
    import openai

    db = fresh_database()
    token = subprocess.run([SLUICE, "user", "add", "cache-user", "--plan", "pro", "--db", db],
                           check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    ports = [free_port(), free_port()]
    banner = tempfile.TemporaryFile(mode="w+")
    processes = [subprocess.Popen(
        [SLUICE, "serve", "--port", str(port), "--db", db, "--model", "sim", "--response-cache-seconds", "600",
         "--upstream", f"http://127.0.0.1:{server.simulator_port}/v1"],
        stdout=banner if port == ports[0] else subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        env={key: value for key, value in os.environ.items() if not key.startswith("SLUICE_")})
        for port in ports]

    def started():
        with urllib.request.urlopen(f"http://127.0.0.1:{server.simulator_port}/stats", timeout=10) as response:
            return json.loads(response.read())["streams_started"]

    try:
        for port in ports:
            wait_for(f"http://127.0.0.1:{port}/healthz")
        banner.seek(0)
        assert "response cache: 600 s, per user" in banner.read()
        clients = [openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=token, max_retries=0, timeout=60)
                   for port in ports]
        question = [{"role": "user", "content": "What does a response cache save? " + uuid.uuid4().hex}]
        before = started()
        first = clients[0].chat.completions.with_raw_response.create(model="sim", messages=question, temperature=0.7)
        assert first.headers["x-sluice-cache"] == "miss"
        used = json.loads(call(f"http://127.0.0.1:{ports[0]}", token, "GET", "/api/usage/limits")[1])["used"]
        assert used > 0

        second = clients[1].chat.completions.with_raw_response.create(model="sim", messages=question, temperature=0.7)
        assert second.headers["x-sluice-cache"] == "hit"
        assert second.parse().choices[0].message.content == first.parse().choices[0].message.content
        assert second.parse().usage.total_tokens == first.parse().usage.total_tokens
        assert started() == before + 1
        assert json.loads(call(f"http://127.0.0.1:{ports[1]}", token, "GET", "/api/usage/limits")[1])["used"] == used

        # Streamed through the SDK: the same text, and a fresh answer when the caller asks for one.
        pieces = [chunk.choices[0].delta.content or "" for chunk in clients[1].chat.completions.create(
            model="sim", messages=question, temperature=0.7, stream=True) if chunk.choices]
        assert "".join(pieces) == first.parse().choices[0].message.content and len(pieces) > 3
        assert started() == before + 1
        fresh = clients[1].chat.completions.with_raw_response.create(
            model="sim", messages=question, temperature=0.7, extra_headers={"Cache-Control": "no-cache"})
        assert "x-sluice-cache" not in fresh.headers
        assert started() == before + 2

        # `sluice cache clear` empties it for every instance: the next identical call asks the model.
        cleared = subprocess.run([SLUICE, "cache", "clear", "--model", "sim", "--db", db],
                                 check=True, capture_output=True, text=True).stdout
        assert "Removed 1 cached answer of sim." in cleared
        again = clients[0].chat.completions.with_raw_response.create(model="sim", messages=question, temperature=0.7)
        assert again.headers["x-sluice-cache"] == "miss" and started() == before + 3
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)


def test_a_breaker_that_opens_on_one_instance_opens_on_the_other_without_a_call(server):
    """Two instances in front of an upstream that is down: the calls to the first open its breaker, and the second,
    which made no call at all, opens its own within about a second (`circuit_cooldowns`)."""
    db = fresh_database()
    token = subprocess.run([SLUICE, "user", "add", "breaker-user", "--plan", "pro", "--db", db],
                           check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]
    dead = free_port()  # nothing listens there
    ports = [free_port(), free_port()]
    logs = [tempfile.TemporaryFile(mode="w+") for _ in ports]
    processes = [subprocess.Popen(
        [SLUICE, "serve", "--port", str(port), "--db", db, "--model", "sim", "--breaker-failures", "2",
         "--max-retries", "0", "--upstream", f"http://127.0.0.1:{dead}/v1"],
        stdout=log, stderr=subprocess.STDOUT,
        env={key: value for key, value in os.environ.items() if not key.startswith("SLUICE_")})
        for port, log in zip(ports, logs)]

    def circuit(port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
            lines = [line for line in response.read().decode().splitlines()
                     if line.startswith('sluice_circuit_state{upstream="127.0.0.1"}')]
        return float(lines[0].split()[-1]) if lines else None

    try:
        for port in ports:
            wait_for(f"http://127.0.0.1:{port}/healthz")
        first = f"http://127.0.0.1:{ports[0]}"
        for _ in range(2):
            with pytest.raises(urllib.error.HTTPError) as failed:
                call(first, token, "POST", "/v1/chat/completions", {"model": "sim", "messages": [{"role": "user", "content": "hi"}]})
            assert failed.value.code >= 500
        assert circuit(ports[0]) == 1
        deadline = time.monotonic() + 10
        while circuit(ports[1]) != 1 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert circuit(ports[1]) == 1
        for process in processes:
            process.terminate()
            process.wait(timeout=15)
        logs[1].seek(0)
        assert "another instance found an upstream down" in logs[1].read()
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
