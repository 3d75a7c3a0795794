"""The `sluice` command as a user meets it: users, tokens, and settings that fail with one clear line."""
import json
import os
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from conftest import SLUICE, free_port, running_sluice


def clean_environment(extra=None):
    """The environment without SLUICE_* settings (the test script exports some for the Swift tests)."""
    base = {key: value for key, value in os.environ.items() if not key.startswith("SLUICE_")}
    return {**base, **(extra or {})}


def run(*args, env=None, input=None):
    return subprocess.run([SLUICE, *args], capture_output=True, text=True, timeout=60, env=clean_environment(env), input=input)


def test_user_add_prints_the_token_alone_on_the_last_line_and_list_shows_the_user():
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    added = run("user", "add", "dana", "--plan", "pro", "--db", db)
    assert added.returncode == 0
    token = added.stdout.strip().splitlines()[-1]
    assert token.startswith("sluice_") and " " not in token
    listed = run("user", "list", "--db", db)
    assert "dana\tpro" in listed.stdout
    duplicate = run("user", "add", "dana", "--db", db)
    assert duplicate.returncode != 0
    assert "already exists" in duplicate.stderr
    rotated = run("user", "token", "dana", "--db", db)
    assert rotated.returncode == 0 and rotated.stdout.strip().splitlines()[-1] != token
    assert run("user", "token", "nobody", "--db", db).returncode != 0
    assert run("user", "add", "erin", "--plan", "gold", "--db", db).returncode != 0


def test_changes_made_on_the_command_line_are_in_the_audit_log_with_each_setting_before_and_after():
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    for args in [
        ("user", "add", "fay", "--plan", "free"), ("user", "set-plan", "fay", "pro", "--daily-usd", "2.50"),
        ("team", "create", "ops", "--monthly-usd", "100", "--member", "fay"), ("team", "set", "ops", "--rename", "sre"),
        ("user", "key", "add", "fay", "ci", "--daily-usd", "1"), ("user", "key", "revoke", "fay", "ci"),
        # The same plan again moves nothing: no entry.
        ("user", "set-plan", "fay", "pro"),
    ]:
        assert run(*args, "--db", db).returncode == 0, args
    # A change that failed made nothing and says nothing.
    assert run("team", "create", "sre", "--db", db).returncode != 0
    printed = run("audit", "--db", db).stdout.splitlines()
    assert printed[0] == "at\tby\taction\ttarget\tchanges\taddress"
    rows = [line.split("\t") for line in printed[1:]]
    assert [row[1:4] for row in rows] == [
        ["sluice user key revoke", "key.revoked", "fay/ci"],
        ["sluice user key add", "key.added", "fay/ci"],
        ["sluice team set", "team.changed", "ops"],
        ["sluice team create", "team.added", "ops"],
        ["sluice user set-plan", "user.changed", "fay"],
        ["sluice user add", "user.added", "fay"],
    ]
    assert rows[2][4] == "name: ops → sre" and rows[1][4] == "label: none → ci; daily_usd: none → 1"
    assert "members: none → fay" in rows[3][4] and "monthly_usd: none → 100" in rows[3][4]
    assert "plan: free → pro" in rows[4][4] and "daily_usd: none → 2.5" in rows[4][4]
    assert all(row[5] == "-" for row in rows)
    # Narrowed to a team (by its name then) or to keys.
    assert [line.split("\t")[2] for line in run("audit", "--name", "ops", "--db", db).stdout.splitlines()[1:]] == [
        "team.changed", "team.added"]
    assert len(run("audit", "--kind", "key", "--db", db).stdout.splitlines()) == 3
    assert run("audit", "--kind", "plan", "--db", db).returncode != 0


def test_the_first_user_is_the_administrator_and_the_last_one_stays_one():
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    assert "administrator" in run("user", "add", "ada", "--db", db).stdout
    assert "administrator" not in run("user", "add", "ben", "--db", db).stdout
    listed = [line.split("\t") for line in run("user", "list", "--db", db).stdout.splitlines()]
    assert listed[0][5:] == ["administrator", "suspended", "password", "two-step", "team"]
    assert {row[0]: row[5:7] for row in listed[1:]} == {"ada": ["yes", "no"], "ben": ["no", "no"]}
    last = run("user", "admin", "ada", "--off", "--db", db)
    assert last.returncode != 0 and "only administrator" in last.stderr
    assert run("user", "admin", "ben", "--db", db).returncode == 0
    assert run("user", "admin", "ada", "--off", "--db", db).returncode == 0
    listed = [line.split("\t") for line in run("user", "list", "--db", db).stdout.splitlines()]
    assert {row[0]: row[5] for row in listed[1:]} == {"ada": "no", "ben": "yes"}
    # The only administrator who can sign in is not suspended: someone must be left to manage the others.
    alone = run("user", "suspend", "ben", "--db", db)
    assert alone.returncode != 0 and "only administrator" in alone.stderr
    assert "administrator" in run("user", "add", "cy", "--admin", "--db", db).stdout
    assert "suspended" in run("user", "suspend", "cy", "--db", db).stdout
    suspended = {line.split("\t")[0]: line.split("\t")[6] for line in run("user", "list", "--db", db).stdout.splitlines()[1:]}
    assert suspended["cy"].startswith("20") and suspended["ben"] == "no"
    assert "restored" in run("user", "suspend", "cy", "--off", "--db", db).stdout
    assert run("user", "list", "--db", db).stdout.splitlines()[-1].split("\t")[6] == "no"
    unconfirmed = run("user", "delete", "cy", "--db", db)
    assert unconfirmed.returncode != 0 and "--yes" in unconfirmed.stderr and "cy\t" in run("user", "list", "--db", db).stdout
    deleted = run("user", "delete", "cy", "--yes", "--db", db)
    assert deleted.returncode == 0 and "usage stays" in deleted.stdout
    assert "cy\t" not in run("user", "list", "--db", db).stdout
    last = run("user", "delete", "ben", "--yes", "--db", db)
    assert last.returncode != 0 and "only administrator" in last.stderr


def me_status(server, token):
    request = urllib.request.Request(server.base + "/api/me", headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def sign_in(server, name, password, forwarded_for=None):
    request = urllib.request.Request(
        f"{server.base}/api/sign-in", data=json.dumps({"name": name, "password": password}).encode(),
        headers={"Content-Type": "application/json"} | ({"X-Forwarded-For": forwarded_for} if forwarded_for else {}),
        method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_user_password_lets_the_user_sign_in_on_a_running_server_and_off_signs_them_out(server):
    assert run("user", "add", "pat", "--db", server.db).returncode == 0
    assert sign_in(server, "pat", "correct horse")[0] == 401
    short = run("user", "password", "pat", "--db", server.db, input="short\n")
    assert short.returncode != 0 and "at least 8 characters" in short.stderr
    assert run("user", "password", "pat", "--db", server.db, input="").returncode != 0
    set_ = run("user", "password", "pat", "--db", server.db, input="correct horse\n")
    assert set_.returncode == 0 and "password is set" in set_.stdout
    assert {line.split("\t")[0]: line.split("\t")[7] for line in run("user", "list", "--db", server.db).stdout.splitlines()[1:]}["pat"] == "yes"
    status, session = sign_in(server, "pat", "correct horse")
    assert status == 200 and session["user"]["name"] == "pat" and session["user"]["has_password"] is True
    assert me_status(server, session["token"]) == 200
    # Signed out everywhere from a shell (a lost laptop), the password kept: a new sign-in works.
    second = sign_in(server, "pat", "correct horse")[1]["token"]
    signed_out = run("user", "sign-out", "pat", "--db", server.db)
    assert signed_out.returncode == 0 and signed_out.stdout.strip() == "pat was signed out of 2 browsers."
    assert run("user", "sign-out", "pat", "--db", server.db).stdout.strip() == "pat was signed in nowhere with a password."
    assert run("user", "sign-out", "nobody", "--db", server.db).returncode != 0
    deadline = time.monotonic() + 15
    while me_status(server, second) == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert me_status(server, second) == 401
    status, session = sign_in(server, "pat", "correct horse")
    assert status == 200
    off = run("user", "password", "pat", "--off", "--db", server.db)
    assert off.returncode == 0 and "1 signed-in browser was signed out" in off.stdout
    assert sign_in(server, "pat", "correct horse")[0] == 401
    # The session is refused once the server's credential cache (5 s) has let it go.
    deadline = time.monotonic() + 15
    while me_status(server, session["token"]) == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert me_status(server, session["token"]) == 401


def test_behind_a_trusted_proxy_the_forwarded_address_is_the_clients():
    def listed_address(running, forwarded_for):
        status, session = sign_in(running, "local", "behind nginx", forwarded_for)
        assert status == 200
        request = urllib.request.Request(running.base + "/api/me/sessions", headers={"Authorization": f"Bearer {session['token']}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return [item["address"] for item in json.load(response)["sessions"] if item["current"]]

    # A proxy on this machine is trusted unless told otherwise, as uvicorn does.
    for proxies, expected in [(["--trusted-proxy", "127.0.0.1"], "198.51.100.7"), ([], "198.51.100.7"),
                              (["--trusted-proxy", "none"], "127.0.0.1"), (["--trusted-proxy", "10.0.0.5"], "127.0.0.1")]:
        with running_sluice(lambda simulator_port, _: [
                "--model", "sim", "--upstream", f"http://127.0.0.1:{simulator_port}/v1", *proxies], user="local") as running:
            assert run("user", "password", "local", "--db", running.db, input="behind nginx\n").returncode == 0
            assert listed_address(running, "203.0.113.1, 198.51.100.7") == [expected]


def test_labelled_keys_act_as_their_user_and_a_revoked_key_stops_working_on_a_running_server(server):
    assert run("user", "add", "keys-cli", "--db", server.db).returncode == 0
    added = run("user", "key", "add", "keys-cli", "ci", "--db", server.db)
    assert added.returncode == 0 and "acts as keys-cli" in added.stdout
    key = added.stdout.strip().splitlines()[-1]
    assert key.startswith("sluice_")
    again = run("user", "key", "add", "keys-cli", "ci", "--db", server.db)
    assert again.returncode != 0 and "already has a key labelled 'ci'" in again.stderr
    assert run("user", "key", "add", "keys-cli", "  ", "--db", server.db).returncode != 0
    assert "--expires-in-days" in run("user", "key", "add", "keys-cli", "tmp", "--expires-in-days", "0", "--db", server.db).stderr
    expiring = run("user", "key", "add", "keys-cli", "contractor", "--expires-in-days", "30", "--model", "sim", "--daily-usd", "1.5",
                   "--db", server.db)
    assert expiring.returncode == 0 and " until 20" in expiring.stdout and "only with sim, up to $1.5 a day" in expiring.stdout
    assert "--daily-usd" in run("user", "key", "add", "keys-cli", "tmp", "--daily-usd", "free", "--db", server.db).stderr
    assert "--tokens-per-minute must be from 1" in run("user", "key", "add", "keys-cli", "tmp", "--tokens-per-minute", "0",
                                                        "--db", server.db).stderr
    paced = run("user", "key", "add", "keys-cli", "batch", "--requests-per-minute", "60", "--max-parallel-requests", "2",
                "--db", server.db)
    assert paced.returncode == 0 and "at most 60 requests/min, 2 at once" in paced.stdout

    def status(token):
        request = urllib.request.Request(server.base + "/api/conversations", headers={"Authorization": f"Bearer {token}"})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status
        except urllib.error.HTTPError as error:
            return error.code

    assert status(key) == 200
    listed = run("user", "key", "list", "keys-cli", "--db", server.db)
    assert listed.stdout.splitlines()[0] == \
        "label\tcreated\tstatus\texpires\tmodels\tdaily_usd\trate_limits\ttags\tlast_used\tturns\ttotal_tokens\tcost_usd"
    label, _, state, expires, models, daily, rates, tags, last_used, turns, tokens, cost = listed.stdout.splitlines()[1].split("\t")
    assert (label, state, expires, models, daily, rates, tags, last_used, turns, tokens, cost) == \
        ("ci", "works", "never", "all", "none", "none", "none", "never", "0", "0", "0")
    # A chat made with the key is the key's usage: its turns, tokens and last use.
    completion = urllib.request.Request(
        server.base + "/v1/chat/completions", method="POST",
        data=json.dumps({"model": "sim", "messages": [{"role": "user", "content": "hi"}]}).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    with urllib.request.urlopen(completion, timeout=30) as response:
        used = json.loads(response.read())["usage"]["total_tokens"]
    lines = run("user", "key", "list", "keys-cli", "--db", server.db).stdout.splitlines()
    _, _, state, _, _, _, _, _, last_used, turns, tokens, _ = lines[1].split("\t")
    assert (state, turns, tokens) == ("works", "1", str(used)) and last_used.startswith("20")
    # The key made to expire says when; the user's own token has made no turn: no line for it.
    assert [line.split("\t")[0] for line in lines[1:]] == ["ci", "contractor", "batch"]
    assert lines[3].split("\t")[6] == "60 requests/min, 2 at once"
    # Changed in place: a limit removed, another raised; asking for no change says what may be changed.
    changed = run("user", "key", "set", "keys-cli", "batch", "--requests-per-minute", "none", "--max-parallel-requests", "4",
                  "--db", server.db)
    assert changed.returncode == 0 and "at most 4 at once" in changed.stdout and "requests/min" not in changed.stdout
    assert "name what to change" in run("user", "key", "set", "keys-cli", "batch", "--db", server.db).stderr
    # Tags every call of the key carries: set, listed, removed.
    tagged = run("user", "key", "set", "keys-cli", "batch", "--tag", "nightly", "--tag", "eu", "--db", server.db)
    assert tagged.returncode == 0 and "its calls tagged nightly, eu" in tagged.stdout
    assert run("user", "key", "list", "keys-cli", "--db", server.db).stdout.splitlines()[3].split("\t")[7] == "nightly,eu"
    assert "no tags" in run("user", "key", "set", "keys-cli", "batch", "--no-tags", "--db", server.db).stdout
    assert run("user", "key", "set", "keys-cli", "batch", "--tag", "a,b", "--db", server.db).returncode != 0
    assert lines[2].split("\t")[2] == "works" and lines[2].split("\t")[3].startswith("20") and lines[2].split("\t")[4:6] == ["sim", "1.5"]
    revoked = run("user", "key", "revoke", "keys-cli", "ci", "--db", server.db)
    assert revoked.returncode == 0
    # The server keeps a user it has seen for up to 5 s.
    deadline = time.monotonic() + 15
    while status(key) != 401:
        assert time.monotonic() < deadline, "the revoked key still works"
        time.sleep(0.2)
    assert "\trevoked " in run("user", "key", "list", "keys-cli", "--db", server.db).stdout
    missing = run("user", "key", "revoke", "keys-cli", "ci", "--db", server.db)
    assert missing.returncode != 0 and "no working key labelled 'ci'" in missing.stderr


def test_bad_settings_stop_start_up_with_one_line_naming_the_setting():
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    cases = [
        (["serve", "--db", db, "--upstream", "ftp://example"], {}, "upstream"),
        (["serve", "--db", db], {"SLUICE_PORT": "eighty", "SLUICE_UPSTREAM": "http://127.0.0.1:1/v1"}, "SLUICE_PORT"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--log-level", "loud"], {}, "log level"),
        (["serve", "--db", db], {"SLUICE_UPSTREAM": ""}, "no upstream"),
        (["serve", "--db", db, "--local-model", "/nonexistent.gguf"], {}, "--llama-server"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--first-token-timeout-ms", "0"], {}, "--first-token-timeout-ms"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--price", "gpt-4o=cheap"], {}, "MODEL=INPUT/OUTPUT"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--price", "gpt-4o=2.50/10/1.25/9"], {}, "MODEL=INPUT/OUTPUT[/CACHED_INPUT]"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1"], {"SLUICE_GLOBAL_DAILY_USD": "-3"}, "global daily budget"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--upstream-kind", "gemini"], {}, "upstream kind"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--upstream-key-header", "api key"], {}, "--upstream-key-header"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--upstream-concurrency", "0"], {}, "--upstream-concurrency"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1"], {"SLUICE_BREAKER_FAILURES": "-1"}, "SLUICE_BREAKER_FAILURES"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--context-model", "gpt-4o=lots"], {}, "MODEL=RECENT/PERCENT"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--max-message-chars", "0"], {}, "message limit"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--guard-rules", "/nonexistent.yml"], {}, "prompt-guard rules"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--sign-up", "anyone"], {}, "--sign-up"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1"], {"SLUICE_SESSION_DAYS": "0"}, "SLUICE_SESSION_DAYS"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--trusted-proxy", "nginx"], {}, "'nginx' is not an IP address"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1"], {"SLUICE_TRUSTED_PROXIES": "127.0.0.1, ::1, 10.0.0"},
         "SLUICE_TRUSTED_PROXIES: '10.0.0'"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--oidc-issuer", "login.example.com"], {}, "--oidc-issuer"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--oidc-issuer", "https://login.example.com"], {},
         "--oidc-client-id"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--oidc-issuer", "https://login.example.com",
          "--oidc-client-id", "sluice", "--oidc-sign-up", "off"], {}, "--oidc-sign-up"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--password-sign-in", "off"], {}, "needs --oidc-issuer"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--sign-up", "open"],
         {"SLUICE_PASSWORD_SIGN_IN": "off", "SLUICE_OIDC_ISSUER": "https://login.example.com", "SLUICE_OIDC_CLIENT_ID": "sluice"},
         "--sign-up open disagree"),
        (["serve", "--db", db, "--upstream", "http://127.0.0.1:1/v1", "--oidc-issuer", "https://login.example.com",
          "--oidc-client-id", "sluice", "--oidc-allowed-domain", "@example.com"], {}, "'@example.com' is not a domain"),
    ]
    for args, env, needle in cases:
        result = run(*args, env=env)
        assert result.returncode != 0, args
        message = [line for line in result.stderr.splitlines() if line.strip() and "sluice:" in line]
        assert len(message) == 1 and needle in message[0], (args, result.stderr)


def test_the_upstream_key_never_reaches_the_log():
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    port = free_port()
    process = subprocess.Popen(
        [SLUICE, "serve", "--db", db, "--port", str(port), "--upstream", "http://127.0.0.1:1/v1",
         "--upstream-key", "sk-very-secret-key", "--log-level", "trace", "--oidc-issuer", "http://127.0.0.1:1",
         "--oidc-client-id", "sluice", "--oidc-client-secret", "oidc-very-secret"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=clean_environment())
    try:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if "Sluice is ready" in line:
                break
        process.terminate()
        rest, _ = process.communicate(timeout=10)
        output = "".join(lines) + rest
        assert "Sluice is ready" in output
        assert "sk-very-secret-key" not in output and "oidc-very-secret" not in output
        # The user the first start made for a newcomer is the audit log's first entry.
        audit = run("audit", "--db", db).stdout.splitlines()
        assert [line.split("\t")[1:4] for line in audit[1:]] == [["sluice serve", "user.added", "local"]]
        assert "plan: none → unlimited" in audit[1]
    finally:
        if process.poll() is None:
            process.kill()


def test_json_logs_carry_the_request_id_and_never_the_message_text_or_key():
    import json
    import urllib.request
    from conftest import wait_for
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    token = run("user", "add", "logs", "--db", db).stdout.strip().splitlines()[-1]
    simulator_port, port = free_port(), free_port()
    simulator = subprocess.Popen([SLUICE, "simulate", "--port", str(simulator_port), "--delay-ms", "0"],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = subprocess.Popen(
        [SLUICE, "serve", "--db", db, "--port", str(port), "--upstream", f"http://127.0.0.1:{simulator_port}/v1",
         "--upstream-key", "sk-json-log-secret", "--log-format", "json", "--model", "sim"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=clean_environment())
    try:
        wait_for(f"http://127.0.0.1:{simulator_port}/health")
        wait_for(f"http://127.0.0.1:{port}/healthz")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        conversation = json.load(urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{port}/api/conversations", data=b"{}", headers=headers, method="POST")))["id"]
        secret_text = "my very private question about lighthouses"
        with urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{port}/api/conversations/{conversation}/messages",
                data=json.dumps({"content": secret_text}).encode(), headers=headers, method="POST")) as response:
            body = response.read().decode()
        assert "event: done" in body
    finally:
        server.terminate()
        _, logs = server.communicate(timeout=20)
        simulator.terminate()
        simulator.wait(timeout=10)
    lines = [json.loads(line) for line in logs.splitlines() if line.strip()]
    assert lines and all({"ts", "level", "logger", "message"} <= set(line) for line in lines)
    finished = [line for line in lines if line["message"] == "turn finished"]
    assert len(finished) == 1
    assert finished[0]["hb.request.id"] and finished[0]["message_id"] and finished[0]["status"] == "complete"
    assert secret_text not in logs and "sk-json-log-secret" not in logs and token not in logs


def test_plans_limits_and_resets_from_the_command_line():
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    assert run("user", "add", "fay", "--db", db).returncode == 0
    assert "fay\tfree\t0/4000\t" in run("user", "list", "--db", db).stdout
    changed = run("user", "set-plan", "fay", "pro", "--limit", "100", "--db", db)
    assert changed.returncode == 0, changed.stderr
    assert "pro plan: 0 of 100 tokens used" in changed.stdout
    assert "fay\tpro\t0/100\t" in run("user", "list", "--db", db).stdout
    assert "fay\tunlimited\t0/unlimited\t" in (
        run("user", "set-plan", "fay", "unlimited", "--db", db).returncode == 0 and run("user", "list", "--db", db).stdout)
    dollars = run("user", "set-plan", "fay", "pro", "--daily-usd", "1.50", "--db", db)
    assert dollars.returncode == 0 and "daily limit $1.5 ($0 spent today)" in dollars.stdout, dollars.stdout
    assert "--daily-usd must be" in run("user", "set-plan", "fay", "pro", "--daily-usd", "lots", "--db", db).stderr
    assert run("user", "set-plan", "fay", "unlimited", "--daily-usd", "none", "--db", db).returncode == 0
    per_end_user = run("user", "set-plan", "fay", "unlimited", "--end-user-daily-usd", "0.25", "--db", db)
    assert per_end_user.returncode == 0 and "each end user at most $0.25 a day" in per_end_user.stdout, per_end_user.stdout
    # A bad amount changes nothing, not even the plan given with it.
    refused = run("user", "set-plan", "fay", "pro", "--end-user-daily-usd", "0", "--db", db)
    assert refused.returncode != 0 and "--end-user-daily-usd must be" in refused.stderr
    assert "fay\tunlimited\t" in run("user", "list", "--db", db).stdout
    removed = run("user", "set-plan", "fay", "unlimited", "--end-user-daily-usd", "none", "--db", db)
    assert removed.returncode == 0 and "each end user" not in removed.stdout
    rates = run("user", "set-plan", "fay", "unlimited", "--requests-per-minute", "1", "--tokens-per-minute", "5000",
                "--max-parallel-requests", "4", "--db", db)
    assert rates.returncode == 0 and "at most 1 request and 5000 tokens a minute, 4 answers at once" in rates.stdout, rates.stdout
    assert run("user", "set-plan", "fay", "unlimited", "--max-parallel-requests", "none", "--db", db).returncode == 0
    assert "at most 5000 tokens a minute" in run(
        "user", "set-plan", "fay", "unlimited", "--requests-per-minute", "none", "--db", db).stdout
    bad_rate = run("user", "set-plan", "fay", "unlimited", "--tokens-per-minute", "0", "--db", db)
    assert bad_rate.returncode != 0 and "--tokens-per-minute must be a whole number above 0" in bad_rate.stderr
    assert "a minute" not in run("user", "set-plan", "fay", "unlimited", "--tokens-per-minute", "none", "--db", db).stdout
    models = run("user", "set-models", "fay", "gpt-4o-mini", "SmolLM2-135M-Instruct", "--db", db)
    assert models.returncode == 0 and "fay may use only: gpt-4o-mini, SmolLM2-135M-Instruct" in models.stdout, models.stdout
    both = run("user", "set-models", "fay", "gpt-4o", "--all", "--db", db)
    assert both.returncode != 0 and "or pass --all (not both)" in both.stderr
    assert "fay may use every model" in run("user", "set-models", "fay", "--all", "--db", db).stdout
    reset = run("user", "reset", "fay", "--db", db)
    assert reset.returncode == 0 and "0 of unlimited tokens used" in reset.stdout
    missing = run("user", "set-plan", "nobody", "pro", "--db", db)
    assert missing.returncode != 0 and "no user named nobody" in missing.stderr
    assert run("user", "set-plan", "fay", "gold", "--db", db).returncode != 0


def test_teams_from_the_command_line():
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    for name in ("hal", "ivy", "jo"):
        assert run("user", "add", name, "--db", db).returncode == 0
    made = run("team", "create", "ops", "--daily-usd", "25", "--monthly-usd", "400", "--requests-per-minute", "60",
               "--member", "hal", "--member", "ivy", "--db", db)
    assert made.returncode == 0, made.stderr
    assert "Created team ops (daily limit $25, monthly limit $400; 60 requests a minute; every model; hal, ivy)." in made.stdout
    # A misspelt member makes nothing; a taken name and a bad amount are refused.
    misspelt = run("team", "create", "dev", "--member", "hall", "--db", db)
    assert misspelt.returncode != 0 and "no user named hall" in misspelt.stderr
    assert "already exists" in run("team", "create", "ops", "--db", db).stderr
    assert "--daily-usd must be" in run("team", "create", "qa", "--daily-usd", "0", "--db", db).stderr
    assert "a team's name must be" in run("team", "create", "a/b", "--db", db).stderr
    listed = run("team", "list", "--db", db).stdout.splitlines()
    assert listed == ["name\tdaily limit (USD)\tspent today (USD)\tmonthly limit (USD)\tspent this month (USD)\trate limits\tmodels\tmembers",
                      "ops\t25\t0\t400\t0\t60 requests a minute\tall\thal,ivy"]
    teams = {line.split("\t")[0]: line.split("\t")[-1] for line in run("user", "list", "--db", db).stdout.splitlines()[1:]}
    assert teams == {"hal": "ops", "ivy": "ops", "jo": "-"}

    assert "jo now in team ops." in run("team", "add", "ops", "jo", "--db", db).stdout
    assert "ivy now in no team." in run("team", "remove", "ivy", "--db", db).stdout
    changed = run("team", "set", "ops", "--daily-usd", "none", "--rename", "platform", "--db", db)
    assert changed.returncode == 0 and "Team platform: monthly limit $400; 60 requests a minute; every model." in changed.stdout, changed.stdout
    rated = run("team", "set", "platform", "--monthly-usd", "none", "--requests-per-minute", "none", "--tokens-per-minute", "5000",
                "--max-parallel-requests", "4", "--db", db)
    assert "Team platform: no spending limits; 5000 tokens a minute, 4 answers at once; every model." in rated.stdout, rated.stdout
    narrowed = run("team", "set", "platform", "--model", "gpt-4o-mini", "--model", "sim", "--db", db)
    assert "Team platform: no spending limits; 5000 tokens a minute, 4 answers at once; only gpt-4o-mini, sim." in narrowed.stdout, narrowed.stdout
    assert "--max-parallel-requests must be" in run("team", "set", "platform", "--max-parallel-requests", "0", "--db", db).stderr
    assert "not both" in run("team", "set", "platform", "--model", "sim", "--all-models", "--db", db).stderr
    assert "--monthly-usd must be" in run("team", "set", "platform", "--monthly-usd", "lots", "--db", db).stderr
    assert "name what to change" in run("team", "set", "platform", "--db", db).stderr
    assert "no team named ops" in run("team", "add", "ops", "ivy", "--db", db).stderr
    assert run("team", "list", "--db", db).stdout.splitlines()[1] == \
        "platform\tnone\t0\tnone\t0\t5000 tokens a minute, 4 answers at once\tgpt-4o-mini,sim\thal,jo"
    assert "every model" in run("team", "set", "platform", "--all-models", "--db", db).stdout
    report = run("usage", "report", "--group", "team", "--db", db)
    assert report.returncode == 0 and report.stdout.splitlines()[0].startswith("team\tturns"), report.stderr
    assert "Deleted team platform." in run("team", "delete", "platform", "--db", db).stdout
    assert run("team", "list", "--db", db).stdout.splitlines()[1:] == []
    assert all(line.endswith("\t-") for line in run("user", "list", "--db", db).stdout.splitlines()[1:])


def test_tag_budgets_from_the_command_line():
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    made = run("tag", "set", "checkout", "--daily-usd", "25", "--db", db)
    assert made.returncode == 0, made.stderr
    assert "Calls tagged checkout may spend $25 a day together." in made.stdout
    # A limit not named stays as it was.
    both = run("tag", "set", "checkout", "--monthly-usd", "400", "--db", db)
    assert "Calls tagged checkout may spend $25 a day and $400 a month together." in both.stdout, both.stdout
    assert run("tag", "set", "batch jobs", "--monthly-usd", "9.5", "--db", db).returncode == 0
    assert run("tag", "list", "--db", db).stdout.splitlines() == [
        "tag\tdaily limit (USD)\tspent today (USD)\tmonthly limit (USD)\tspent this month (USD)",
        "batch jobs\tnone\t0\t9.5\t0", "checkout\t25\t0\t400\t0"]
    # Bad input is refused with one line; nothing changes.
    assert "name a limit" in run("tag", "set", "checkout", "--db", db).stderr
    assert "--daily-usd must be" in run("tag", "set", "checkout", "--daily-usd", "0", "--db", db).stderr
    assert "a tag must be" in run("tag", "set", "a,b", "--daily-usd", "1", "--db", db).stderr
    assert "sluice tag remove batch jobs" in run("tag", "set", "batch jobs", "--monthly-usd", "none", "--db", db).stderr
    assert "no budget" in run("tag", "remove", "nightly", "--db", db).stderr
    assert "The tag checkout has no budget now." in run("tag", "remove", "checkout", "--db", db).stdout
    assert run("tag", "list", "--db", db).stdout.splitlines()[1:] == ["batch jobs\tnone\t0\t9.5\t0"]
    rows = [line.split("\t")[1:5] for line in run("audit", "--kind", "tag", "--db", db).stdout.splitlines()[1:]]
    assert rows == [
        ["sluice tag remove", "tag_budget.removed", "checkout", "daily_usd: 25 → none; monthly_usd: 400 → none"],
        ["sluice tag set", "tag_budget.set", "batch jobs", "monthly_usd: none → 9.5"],
        ["sluice tag set", "tag_budget.set", "checkout", "monthly_usd: none → 400"],
        ["sluice tag set", "tag_budget.set", "checkout", "daily_usd: none → 25"],
    ], rows


def test_usage_report_prints_a_table_and_rejects_bad_options():
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    assert run("user", "add", "gus", "--db", db).returncode == 0
    report = run("usage", "report", "--db", db, "--group", "model", "--since", "2026-01-01")
    assert report.returncode == 0, report.stderr
    lines = report.stdout.strip().splitlines()
    assert lines[0] == "model\tturns\tinput\toutput\ttotal\tcost_usd\tcache_hits\tsaved_usd\tcached_input"
    assert lines[-1] == "total\t0\t\t\t0\t0\t0\t0\t0"
    assert "--group must be" in run("usage", "report", "--db", db, "--group", "week").stderr
    assert "--since must be a date" in run("usage", "report", "--db", db, "--since", "yesterday").stderr
    assert "no user named nobody" in run("usage", "report", "--db", db, "--user", "nobody").stderr


def test_stop_on_disconnect_stores_the_text_so_far_as_partial(server):
    import json
    import socket
    import time
    from conftest import wait_for

    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    token = run("user", "add", "quitter", "--plan", "unlimited", "--db", db).stdout.strip().splitlines()[-1]
    port = free_port()
    serve = subprocess.Popen(
        [SLUICE, "serve", "--port", str(port), "--db", db, "--model", "sim", "--stop-on-disconnect",
         "--upstream", f"http://127.0.0.1:{server.simulator_port}/v1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_environment())
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        import urllib.request
        conversation = json.load(urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{port}/api/conversations", data=b"{}", headers=headers, method="POST")))["id"]
        # Read until a few tokens arrived, then hang up.
        body = json.dumps({"content": "I will leave early"}).encode()
        with socket.create_connection(("127.0.0.1", port)) as connection:
            connection.sendall(
                f"POST /api/conversations/{conversation}/messages HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode() + body)
            received = b""
            while received.count(b"event: token") < 3:
                received += connection.recv(65536)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            messages = json.load(urllib.request.urlopen(urllib.request.Request(
                f"http://127.0.0.1:{port}/api/conversations/{conversation}", headers=headers)))["messages"]
            if messages[-1]["status"] != "streaming":
                break
            time.sleep(0.1)
        answer = messages[-1]
        assert answer["status"] == "partial" and answer["error_code"] == "client_disconnected"
        assert 0 < len(answer["content"]) < len(" ".join(["word"] * 120))
    finally:
        serve.terminate()
        serve.wait(timeout=20)


def write_models(text):
    path = os.path.join(tempfile.mkdtemp(), "models.yml")
    with open(path, "w") as f:
        f.write(text)
    return path


def test_a_models_file_routes_models_and_falls_back_when_one_fails(server):
    import json
    import urllib.request
    from conftest import wait_for

    upstream = f"http://127.0.0.1:{server.simulator_port}/v1"
    models = write_models(f"""
models:
  - name: sim-500
    kind: openai
    base_url: {upstream}
    fallbacks: [sim]
  - name: sim
    kind: openai
    base_url: {upstream}
    input_per_million: "1.00"
    output_per_million: "2.00"
  - name: capped
    kind: openai
    base_url: {upstream}
    connect_timeout_ms: 2000
    total_timeout_ms: 700
""")
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    token = run("user", "add", "router", "--plan", "unlimited", "--db", db).stdout.strip().splitlines()[-1]
    port = free_port()
    serve = subprocess.Popen(
        [SLUICE, "serve", "--port", str(port), "--db", db, "--models", models, "--max-retries", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=clean_environment())
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        created = json.load(urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{port}/api/conversations", data=b"{}", headers=headers, method="POST")))
        assert created["model"] == "sim-500"  # the first model of the file is the default
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/conversations/{created['id']}/messages",
                                         data=json.dumps({"content": "route me"}).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            lines = response.read().decode().splitlines()
        events, name = [], None
        for line in lines:
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, json.loads(line[6:])))
        fallback = [data for name, data in events if name == "status" and data["state"] == "fallback"]
        assert fallback == [{"state": "fallback", "from": "sim-500", "to": "sim"}]
        name, done = events[-1]
        assert name == "done" and done["model"] == "sim"
        # The file's price for `sim` is what the answer cost: 1.00 / 2.00 USD per million tokens.
        usage = done["usage"]
        expected = (usage["input_tokens"] * 1 + usage["output_tokens"] * 2) / 1e6
        assert abs(float(done["cost_usd"]) - expected) < 1e-12

        # A model's own total timeout cuts its answer (120 tokens 25 ms apart need 3 s; it allows 0.7 s).
        created = json.load(urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{port}/api/conversations", data=b'{"model":"capped"}', headers=headers, method="POST")))
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/conversations/{created['id']}/messages",
                                         data=json.dumps({"content": "cut me"}).encode(), headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            last = [line for line in response.read().decode().splitlines() if line.startswith("data: ")][-1]
        ended = json.loads(last[6:])
        assert ended["partial"] is True and ended["code"] == "upstream_timeout" and "was cut" in ended["message"]

        # The gateway lists every configured model, the default first.
        listed = json.load(urllib.request.urlopen(urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/models", headers=headers)))
        assert [model["id"] for model in listed["data"]] == ["sim-500", "sim", "capped"]
    finally:
        serve.terminate()
        # A clean stop also shuts down the HTTP client made for the model with its own connect timeout.
        assert serve.wait(timeout=20) == 0


def test_a_model_with_deployments_answers_every_call_while_one_of_its_servers_is_down(server):
    import json
    import urllib.request
    from conftest import wait_for

    dead = free_port()  # nothing listens there
    models = write_models(f"""
models:
  - name: replicated
    kind: openai
    deployments:
      - base_url: http://127.0.0.1:{dead}/v1
      - base_url: http://127.0.0.1:{server.simulator_port}/v1
        concurrency: 8
""")
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    token = run("user", "add", "balanced", "--plan", "unlimited", "--db", db).stdout.strip().splitlines()[-1]
    port = free_port()
    serve = subprocess.Popen(
        [SLUICE, "serve", "--port", str(port), "--db", db, "--models", models, "--max-retries", "0", "--breaker-failures", "2"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=clean_environment())
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz")
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        body = json.dumps({"model": "replicated", "messages": [{"role": "user", "content": "hi"}]}).encode()
        # No retries and no fallback: each call is answered because the balancer hands it to the server that is up.
        for _ in range(6):
            with urllib.request.urlopen(urllib.request.Request(
                    f"http://127.0.0.1:{port}/v1/chat/completions", data=body, headers=headers), timeout=30) as response:
                answer = json.load(response)
            assert answer["model"] == "replicated" and answer["choices"][0]["message"]["content"]
        # Each deployment has its own breaker and queue in the metrics; the dead one's opened after two failures.
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10).read().decode()
        assert f'sluice_circuit_state{{upstream="replicated@127.0.0.1:{dead}"}} 1' in metrics, metrics
        # The instance stays ready with one server of the model down; /readyz names which, with its breaker.
        ready = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=10))
        upstreams = {upstream["name"]: upstream for upstream in ready["upstreams"]}
        assert ready["status"] == "ready" and "problems" not in ready, ready
        assert upstreams[f"replicated@127.0.0.1:{dead}"]["ready"] is False, ready
        assert upstreams[f"replicated@127.0.0.1:{dead}"]["circuit"] == "open", ready
        assert upstreams[f"replicated@127.0.0.1:{server.simulator_port}"] == {
            "name": f"replicated@127.0.0.1:{server.simulator_port}", "ready": True, "circuit": "closed"}, ready
    finally:
        serve.terminate()
        assert serve.wait(timeout=20) == 0


def test_an_azure_deployment_and_an_operators_headers_from_the_models_file(server):
    # Azure OpenAI's deployment URL (api-version in the query, the key in api-key), and headers sent on every call:
    # one literal, one read from the environment (a secret, kept out of answers as the key is).
    models = write_models(f"""
models:
  - name: sim-echo
    kind: openai
    base_url: http://127.0.0.1:{server.simulator_port}/openai/deployments/gpt-4o?api-version=2024-10-21
    api_key_env: AZURE_KEY_FOR_TEST
    api_key_header: api-key
    headers:
      HTTP-Referer: https://chat.example.com
      X-Title: ${{TITLE_FOR_TEST}}
""")
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    token = run("user", "add", "azure", "--plan", "unlimited", "--db", db).stdout.strip().splitlines()[-1]
    port = free_port()
    secret_title = "team-title-0f3a9c1e77"
    serve = subprocess.Popen(
        [SLUICE, "serve", "--port", str(port), "--db", db, "--models", models],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=clean_environment({"AZURE_KEY_FOR_TEST": "azure-key-5b1d", "TITLE_FOR_TEST": secret_title}))
    try:
        from conftest import wait_for
        # Ready: Azure's model list, asked with the key and the api-version, answers for the deployment.
        wait_for(f"http://127.0.0.1:{port}/readyz")
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/chat/completions",
            data=json.dumps({"model": "sim-echo", "messages": [{"role": "user", "content": "hi"}]}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=30) as response:
            answer = json.load(response)["choices"][0]["message"]["content"]
        assert answer.startswith("user: hi\nheader HTTP-Referer: https://chat.example.com\nheader X-Title: "), answer
        assert secret_title not in answer and "redacted" in answer, answer
    finally:
        serve.terminate()
        _, errors = serve.communicate(timeout=20)
    assert "azure-key-5b1d" not in errors and secret_title not in errors

    # One upstream from the command line: the same deployment URL, and the key's header named by a flag.
    port = free_port()
    serve = subprocess.Popen(
        [SLUICE, "serve", "--port", str(port), "--db", db, "--model", "gpt-4o", "--upstream-key", "azure-key-5b1d",
         "--upstream", f"http://127.0.0.1:{server.simulator_port}/openai/deployments/gpt-4o?api-version=2024-10-21",
         "--upstream-key-header", "api-key"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, env=clean_environment())
    try:
        from conftest import wait_for
        wait_for(f"http://127.0.0.1:{port}/readyz")
        with urllib.request.urlopen(request.__class__(
                f"http://127.0.0.1:{port}/v1/chat/completions", data=request.data, headers=dict(request.header_items())),
                timeout=30) as response:
            assert json.load(response)["choices"][0]["message"]["content"]
    finally:
        serve.terminate()
        serve.wait(timeout=20)


def test_a_bad_models_file_stops_start_up_with_one_line():
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    cases = [
        ("models:\n  - {name: a, kind: openai, base_url: 'http://x/v1', fallbacks: [b]}\n", "fallback 'b' is not a configured model"),
        ("models:\n  - {name: a, kind: openai, base_url: 'http://x/v1', api_key_env: SLUICE_TEST_MISSING_KEY}\n", "SLUICE_TEST_MISSING_KEY"),
        ("models:\n  - {name: a, kind: gemini}\n", "kind 'gemini'"),
        ("models:\n  - {name: a, kind: local}\n", "--local-model"),
        ("models: []\n", "lists no models"),
        ("models:\n  - {name: a, kind: openai, base_url: 'http://x/v1', deployments: [{base_url: 'http://y/v1'}]}\n",
         "give base_url or deployments, not both"),
        ("models:\n  - {name: a, kind: openai, deployments: [{base_url: 'http://y/v1'}, {base_url: 'http://y/v1'}]}\n",
         "listed twice"),
        ("models:\n  - {name: a, kind: openai, deployments: [{base_url: 'gpu-1:8000'}]}\n", "deployment 1: base_url"),
        ("models:\n  - {name: a, kind: local, deployments: [{base_url: 'http://y/v1'}]}\n", "not local"),
        ("models:\n  - {name: a, kind: openai, base_url: 'http://x/v1', cached_input_per_million: 'half'}\n",
         "prices must be decimal USD per million tokens"),
        ("models:\n  - {name: a, kind: openai, base_url: 'http://x/v1', prompt_caching: true}\n", "prompt_caching is for kind anthropic"),
        ("models:\n  - {name: a, kind: openai, base_url: 'http://x/v1', api_key_header: 'api key'}\n", "api_key_header 'api key'"),
        ("models:\n  - {name: a, kind: openai, base_url: 'http://x/v1', headers: {Content-Type: text/plain}}\n",
         "'Content-Type' is not a header Sluice can send"),
        ("models:\n  - {name: a, kind: openai, base_url: 'http://x/v1', headers: {X-A: '${SLUICE_TEST_MISSING_HEADER}'}}\n",
         "SLUICE_TEST_MISSING_HEADER, which is not set"),
        ("models:\n  - {name: a, kind: local, headers: {X-A: b}}\n", "Sluice runs the local one"),
        ("models:\n  - {name: a, kind: openai, deployments: [{base_url: 'http://y/v1', headers: {Host: z}}]}\n",
         "deployment 1: headers: 'Host'"),
    ]
    for text, needle in cases:
        result = run("serve", "--db", db, "--models", write_models(text))
        assert result.returncode != 0, text
        message = [line for line in result.stderr.splitlines() if line.strip() and "sluice:" in line]
        assert len(message) == 1 and needle in message[0], (text, result.stderr)
    # Aliases, from the file or --alias: each mistake named before anything starts.
    model_a = "models:\n  - {name: a, kind: openai, base_url: 'http://x/v1'}\n"
    for text, flags, needle in [
        (model_a + "aliases: {a: a}\n", [], "the alias 'a' is a served model's own name"),
        (model_a, ["--alias", "gpt-4o=gpt-5"], "'gpt-5', which is not a served model"),
        (model_a, ["--alias", "gpt-4o"], "'gpt-4o' is not NAME=MODEL"),
        (model_a + "aliases: {'c-*': {model: a, hidden: true}}\n", [], "'c-*' is hidden but is no alias's exact name"),
        (model_a + "aliases: {c: {hidden: true}}\n", [], "is not valid"),
    ]:
        result = run("serve", "--db", db, "--models", write_models(text), *flags)
        assert result.returncode != 0, (text, flags)
        message = [line for line in result.stderr.splitlines() if line.strip() and "sluice:" in line]
        assert len(message) == 1 and needle in message[0], (text, flags, result.stderr)


def test_claude_code_style_model_names_reach_the_model_an_alias_names(server):
    import json
    import urllib.request
    import anthropic
    from conftest import wait_for

    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    token = run("user", "add", "aliased", "--plan", "unlimited", "--db", db).stdout.strip().splitlines()[-1]
    port = free_port()
    serve = subprocess.Popen(
        [SLUICE, "serve", "--port", str(port), "--db", db, "--model", "sim", "--alias", "claude-*=sim",
         "--upstream", f"http://127.0.0.1:{server.simulator_port}/v1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, text=True, env=clean_environment())
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz")
        sdk = anthropic.Anthropic(base_url=f"http://127.0.0.1:{port}", api_key=token, max_retries=0, timeout=30)
        # What Claude Code does before it sends: count, then ask by its own model names.
        assert sdk.messages.count_tokens(model="claude-sonnet-4-5-20250929", messages=[{"role": "user", "content": "Hi"}]).input_tokens > 0
        message = sdk.messages.create(model="claude-haiku-4-5", max_tokens=50, messages=[{"role": "user", "content": "Hi"}])
        assert message.model == "sim" and message.content[0].text
        request = urllib.request.Request(f"http://127.0.0.1:{port}/v1/models", headers={"Authorization": f"Bearer {token}"})
        assert [model["id"] for model in json.load(urllib.request.urlopen(request, timeout=10))["data"]] == ["sim"]
    finally:
        serve.terminate()
        assert serve.wait(timeout=20) == 0


def test_aliases_are_listed_with_the_models_unless_hidden_and_a_hidden_one_still_answers(server):
    import json
    import urllib.request
    from conftest import wait_for

    import openai

    upstream = f"http://127.0.0.1:{server.simulator_port}/v1"
    models = write_models(f"""
models:
  - {{name: sim, kind: openai, base_url: {upstream}}}
aliases:
  gpt-4o: sim
  gpt-4: {{model: sim, hidden: true}}
  "claude-*": sim
""")
    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    token = run("user", "add", "lister", "--plan", "unlimited", "--db", db).stdout.strip().splitlines()[-1]
    port = free_port()
    serve = subprocess.Popen(
        [SLUICE, "serve", "--port", str(port), "--db", db, "--models", models, "--alias", "o3=sim"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_environment())
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz")
        sdk = openai.OpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=token, max_retries=0, timeout=30)
        assert [model.id for model in sdk.models.list()] == ["sim", "gpt-4o", "o3"]
        assert sdk.models.retrieve("gpt-4").id == "gpt-4"
        answer = sdk.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": "Hi"}])
        assert answer.model == "sim" and answer.choices[0].message.content
        # A key limited to an alias is limited to the alias's model.
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/api/keys", method="POST", data=json.dumps({"label": "ci", "models": ["gpt-4o"]}).encode(),
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        assert json.load(urllib.request.urlopen(request, timeout=10))["models"] == ["sim"]
    finally:
        serve.terminate()
        assert serve.wait(timeout=20) == 0


def test_the_daily_budget_is_exported_for_the_alert(server):
    import urllib.request
    from conftest import wait_for

    db = os.path.join(tempfile.mkdtemp(), "db.sqlite")
    port = free_port()
    serve = subprocess.Popen(
        [SLUICE, "serve", "--port", str(port), "--db", db, "--model", "sim", "--global-daily-usd", "25.50",
         "--upstream", f"http://127.0.0.1:{server.simulator_port}/v1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=clean_environment())
    try:
        wait_for(f"http://127.0.0.1:{port}/readyz")
        metrics = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics").read().decode()
        assert "\nsluice_daily_budget_usd 25.5\n" in "\n" + metrics
    finally:
        serve.terminate()
        serve.wait(timeout=20)


def test_the_load_bench_streams_through_every_target_and_says_how_many_were_open_at_once():
    # A small run of `sluice bench load` (the README's bench): five streams of 8 tokens 50 ms apart, each open about
    # 0.4 s and all asked for at once, so every target has all five open together; one stream alone is one.
    kept = {key: os.environ[key] for key in ("SLUICE_TIKTOKEN_DIR", "SLUICE_PRICE_TABLE") if key in os.environ}
    bench = subprocess.run(
        [SLUICE, "bench", "load", "--streams", "1,5", "--rounds", "1", "--tokens", "8", "--delay-ms", "50", "--litellm", "none"],
        capture_output=True, text=True, timeout=240, env=clean_environment(kept))
    assert bench.returncode == 0, bench.stderr[-2000:]
    lines = bench.stdout.splitlines()
    five = lines[lines.index("5 concurrent streams"):]
    rows = {line.split()[0]: line.split() for line in five[3:6]}
    assert sorted(rows) == ["direct", "relay", "sluice"], five[:8]
    assert all(row[1] == "5/0" for row in rows.values()), rows
    assert "  streams open at once (the most in a wave): direct 5, relay 5, sluice 5" in five, five
    assert not any(line.startswith("  streams open at once") for line in lines[:lines.index("5 concurrent streams")])
