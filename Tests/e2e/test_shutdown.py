"""Sluice asked to stop — SIGTERM from `docker stop`, systemd or Kubernetes in a rolling restart, Ctrl-C in a
terminal — lets the answers it is writing finish within its grace (`--shutdown-grace-seconds`), then stops those
still running with their text so far stored and charged; a second signal stops them at once. A real `sluice serve`
and simulator, the official `openai` SDK as the client, and the SQLite file read after the process has exited."""
import os
import signal
import sqlite3
import subprocess
import tempfile

import openai
import pytest

from conftest import SLUICE, free_port, running_sluice, wait_for


def serving(*extra):
    return lambda simulator_port, _: [
        "--model", "sim", "--upstream", f"http://127.0.0.1:{simulator_port}/v1", *extra]


def sdk(own):
    return openai.OpenAI(base_url=own.base + "/v1", api_key=own.token, max_retries=0)


def stored_answer(db):
    """The one assistant message of the database: (status, error code, content)."""
    with sqlite3.connect(db) as connection:
        rows = connection.execute(
            "SELECT status, error_code, content FROM messages WHERE role = 'assistant'").fetchall()
    assert len(rows) == 1, rows
    return rows[0]


def charged_output_tokens(db):
    with sqlite3.connect(db) as connection:
        return connection.execute("SELECT COALESCE(SUM(output_tokens), 0) FROM token_usage").fetchone()[0]


def read(chunks, count):
    """The text of the next `count` chunks that carry some."""
    text = ""
    while count:
        chunk = next(chunks)
        if chunk.choices and chunk.choices[0].delta.content:
            text += chunk.choices[0].delta.content
            count -= 1
    return text


def test_an_answer_being_written_when_sluice_is_asked_to_stop_finishes_and_is_stored():
    with running_sluice(serving(), simulator_args=("--tokens", "120", "--delay-ms", "25"), user="drain") as own:
        chunks = iter(sdk(own).chat.completions.create(
            model="sim", stream=True, messages=[{"role": "user", "content": "Tell me a long story"}]))
        text = read(chunks, 1)
        own.process.send_signal(signal.SIGTERM)
        finish = None
        for chunk in chunks:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
                finish = chunk.choices[0].finish_reason or finish
        assert finish == "stop"
        # A clean exit once the answer is done, well within the default grace.
        assert own.process.wait(timeout=60) == 0
        status, code, content = stored_answer(own.db)
        assert (status, code) == ("complete", None)
        assert content == text and len(text.split()) >= 100


@pytest.mark.parametrize("stop", ["second signal", "grace over"])
def test_an_answer_still_running_is_stopped_with_its_text_kept(stop):
    """Asked to stop, Sluice goes on writing (the answer's next tokens still come); then a second Ctrl-C, or the end
    of a 2 s grace, stops it: the SDK raises the stream's error, and the text it had is what is stored and charged.
    The answer would take 50 s: without either it would end with `stop`."""
    grace = "600" if stop == "second signal" else "2"
    with running_sluice(serving("--shutdown-grace-seconds", grace), simulator_args=("--tokens", "2000", "--delay-ms", "25"),
                        user="drain") as own:
        chunks = iter(sdk(own).chat.completions.create(
            model="sim", stream=True, messages=[{"role": "user", "content": "Tell me a very long story"}]))
        text = read(chunks, 3)
        own.process.send_signal(signal.SIGINT)
        text += read(chunks, 5)
        if stop == "second signal":
            own.process.send_signal(signal.SIGINT)
        with pytest.raises(openai.APIError) as raised:
            for chunk in chunks:
                if chunk.choices:
                    text += chunk.choices[0].delta.content or ""
        assert "Sluice was stopped" in str(raised.value) and "text so far is saved" in str(raised.value)
        assert own.process.wait(timeout=60) == 0
        status, code, content = stored_answer(own.db)
        assert (status, code) == ("partial", "interrupted")
        assert content == text
        assert 8 <= len(text.split()) < 2000
        assert charged_output_tokens(own.db) >= 8


def test_a_closed_terminal_stops_sluice_as_a_signal_to_stop_does_unless_started_to_ignore_it():
    """SIGHUP (the terminal Sluice runs in was closed) stops it gracefully — exit status 0, not death by the signal —
    so that it stops its llama-server child, which has a process group of its own; under `nohup` it is ignored."""
    with running_sluice(serving(), user="hangup") as own:
        own.process.send_signal(signal.SIGHUP)
        assert own.process.wait(timeout=60) == 0
    # The tests' own processes may have been started ignoring SIGHUP: each Sluice here is given the disposition named.
    for ignored in (False, True):
        workdir = tempfile.mkdtemp(prefix="sluice-hup-")
        port = free_port()
        process = subprocess.Popen(
            [SLUICE, "serve", "--port", str(port), "--db", os.path.join(workdir, "db.sqlite"), "--model", "sim",
             "--upstream", "http://127.0.0.1:9/v1", "--title-model", "off"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={key: value for key, value in os.environ.items() if not key.startswith("SLUICE_")},
            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_IGN if ignored else signal.SIG_DFL))
        try:
            wait_for(f"http://127.0.0.1:{port}/healthz")
            process.send_signal(signal.SIGHUP)
            if ignored:
                # Still serving after the signal: a request made after it is answered.
                wait_for(f"http://127.0.0.1:{port}/healthz")
                assert process.poll() is None
            else:
                assert process.wait(timeout=60) == 0
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_a_text_completion_still_streaming_when_the_grace_ends_gets_the_interrupted_error():
    """A streamed text completion (`/v1/completions`, an editor's or a harness's) is relayed outside the generation
    hub; asked to stop, Sluice lets it go on for the grace (2 s here), then ends it: the SDK raises the stream's
    error, the call is charged what came, and Sluice exits 0. The completion would take 50 s."""
    with running_sluice(serving("--shutdown-grace-seconds", "2"), simulator_args=("--tokens", "2000", "--delay-ms", "25"),
                        user="drain") as own:
        chunks = iter(sdk(own).completions.create(model="sim", prompt="Once upon a time", max_tokens=2000, stream=True))
        text = ""
        for _ in range(3):
            text += next(chunks).choices[0].text
        own.process.send_signal(signal.SIGTERM)
        for _ in range(5):
            text += next(chunks).choices[0].text
        with pytest.raises(openai.APIError) as raised:
            for chunk in chunks:
                if chunk.choices:
                    text += chunk.choices[0].text
        assert "Sluice was stopped" in str(raised.value) and "all that was charged" in str(raised.value)
        assert own.process.wait(timeout=60) == 0
        assert 8 <= len(text.split()) < 2000
        assert charged_output_tokens(own.db) >= 8
