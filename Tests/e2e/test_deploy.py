"""deploy/systemd/sluice.service: a unit systemd accepts, and Sluice started the way it starts it — its settings from
the unit and an environment file, its output in the journal (where no sign-in token is written), stopped by SIGTERM
to Sluice alone within the unit's stop timeout."""
import os
import re
import shutil
import signal
import subprocess
import tempfile

import pytest

from conftest import ROOT, SLUICE, free_port, wait_for

UNIT = os.path.join(ROOT, "deploy", "systemd", "sluice.service")
SYSTEMD_ANALYZE = shutil.which("systemd-analyze")


def unit_settings():
    """The [Service] section's settings, each name with its values in order."""
    settings, section = {}, None
    for line in open(UNIT).read().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line
            continue
        if section == "[Service]":
            name, _, value = line.partition("=")
            settings.setdefault(name, []).append(value)
    return settings


@pytest.mark.skipif(not SYSTEMD_ANALYZE, reason="systemd-analyze (Debian's systemd; ./sluice.sh test installs it)")
def test_systemd_accepts_the_unit():
    # Where the unit expects the checkout, this one: systemd checks that the command it runs is there.
    folder = tempfile.mkdtemp(prefix="sluice-unit-")
    unit = os.path.join(folder, "sluice.service")
    with open(unit, "w") as file:
        file.write(open(UNIT).read().replace("/opt/sluice/.build/release/sluice", SLUICE))
    verified = subprocess.run([SYSTEMD_ANALYZE, "verify", unit], capture_output=True, text=True, timeout=60)
    assert verified.returncode == 0 and verified.stdout + verified.stderr == "", verified.stdout + verified.stderr


def test_the_stop_timeout_leaves_room_after_the_shutdown_grace():
    settings = unit_settings()
    assert settings["KillMode"] == ["mixed"], "SIGTERM to Sluice alone: it stops its llama-server itself"
    help_text = subprocess.run([SLUICE, "serve", "--help"], capture_output=True, text=True, timeout=60).stdout
    grace = int(re.search(r"SLUICE_SHUTDOWN_GRACE_SECONDS,\s+default (\d+)", help_text).group(1))
    assert int(settings["TimeoutStopSec"][0]) >= grace + 5


def start_as_the_unit_does(state, upstream_port, port, journal):
    """`ExecStart` with the unit's `Environment=` and an environment file like `./sluice.sh setup` writes, in its
    working directory (here a fresh folder for /var/lib/sluice); standard output a pipe that is, or is not, the
    journal's stream."""
    settings = unit_settings()
    environment = {key: value for key, value in os.environ.items() if not key.startswith("SLUICE_")}
    for assignment in settings["Environment"]:
        name, _, value = assignment.partition("=")
        environment[name] = value.replace("/var/lib/sluice", state)
    environment.update({
        "SLUICE_WEB_ROOT": os.path.join(ROOT, "web"), "SLUICE_UPSTREAM": f"http://127.0.0.1:{upstream_port}/v1",
        "SLUICE_MODEL": "sim", "SLUICE_PORT": str(port),
    })
    read_end, write_end = os.pipe()
    status = os.fstat(write_end)
    # What systemd sets when a service's output goes to the journal (systemd.exec(5)): its stream's device:inode.
    environment["JOURNAL_STREAM"] = f"{status.st_dev}:{status.st_ino}" if journal else "8:12345"
    command = settings["ExecStart"][0].split()
    assert command[0] == "/opt/sluice/.build/release/sluice" and command[1:] == ["serve"]
    process = subprocess.Popen(
        [SLUICE, *command[1:]], cwd=state, env=environment, stdout=write_end, stderr=subprocess.DEVNULL)
    os.close(write_end)
    return process, os.fdopen(read_end)


@pytest.mark.parametrize("journal", [True, False])
def test_sluice_runs_as_the_unit_starts_it_and_keeps_the_sign_in_token_out_of_the_journal(journal):
    state = tempfile.mkdtemp(prefix="sluice-state-")
    simulator_port, port = free_port(), free_port()
    simulator = subprocess.Popen([SLUICE, "simulate", "--port", str(simulator_port)],
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    process, output = start_as_the_unit_does(state, simulator_port, port, journal)
    try:
        ready = ""
        for line in output:
            if "Sluice is ready" in line:
                ready = line
                break
        wait_for(f"http://127.0.0.1:{port}/readyz")
        assert os.path.exists(os.path.join(state, "sluice.sqlite")), "the database in the state directory"
        token = re.search(r"#token=([A-Za-z0-9_-]+)", ready)
        if journal:
            assert token is None and "sluice user token local" in ready, ready
        else:
            assert token and len(token.group(1)) >= 20, ready
        # systemctl stop, with KillMode=mixed: SIGTERM to Sluice alone, which ends by itself and exits 0.
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=int(unit_settings()["TimeoutStopSec"][0])) == 0
    finally:
        output.close()
        for child in (process, simulator):
            if child.poll() is None:
                child.kill()
                child.wait()
