"""What the bench scripts share: free loopback ports, percentiles, and a `sluice serve` on the local model."""
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[max(0, min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1))))]


def add_unlimited_user(sluice, db, name="bench", env=None):
    """`sluice user add <name> --plan unlimited` on `db`; returns the new user's bearer token."""
    return subprocess.run([sluice, "user", "add", name, "--plan", "unlimited", "--db", db], check=True,
                          capture_output=True, text=True, env=env).stdout.strip().splitlines()[-1]


def wait_until_serving(url, process=None, seconds=60):
    """Returns once `url` answers; exits when `seconds` pass first, or when `process` (if given) has ended."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            sys.exit(f"{process.args[0]} exited before it served {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"{url} did not answer within {seconds} s")


def start_local_sluice(sluice, *extra):
    """Starts `sluice serve --local-model …` with a fresh database and an unlimited user on a free port.

    Returns (process, base URL, bearer token, llama-server's base URL as printed on the "Upstream:" line).
    The caller terminates the process."""
    model = os.environ.get("SLUICE_LOCAL_MODEL")
    llama = os.environ.get("SLUICE_LLAMA_SERVER") or os.environ.get("LLAMA_SERVER")
    if not (model and llama):
        sys.exit("set SLUICE_LOCAL_MODEL and SLUICE_LLAMA_SERVER (scripts/setup-local-model.sh prints them)")
    db = os.path.join(tempfile.mkdtemp(prefix="sluice-bench-"), "db.sqlite")
    token = add_unlimited_user(sluice, db)
    port = free_port()
    server = subprocess.Popen(
        [sluice, "serve", "--port", str(port), "--db", db, "--local-model", model, "--llama-server", llama,
         "--log-level", "warning", *extra],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    for line in server.stdout:
        match = re.search(r"Upstream: (\S+)", line)
        if match:
            return server, f"http://127.0.0.1:{port}", token, match.group(1)
    server.terminate()
    sys.exit("sluice did not start")
