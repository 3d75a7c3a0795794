"""Starts a simulator and a real `sluice serve` on free loopback ports, and a headless Chromium, for UI tests."""
import contextlib
import json
import os
import signal
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SLUICE = os.environ.get("SLUICE_BIN", os.path.join(ROOT, ".build", "debug", "sluice"))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer")


class Server:
    def __init__(self, base, token, simulator_port, db):
        self.db = db
        self.base = base
        self.token = token
        self.simulator_port = simulator_port

    def api(self, method, path, body=None):
        request = urllib.request.Request(
            self.base + path, method=method, data=None if body is None else json.dumps(body).encode(),
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read() or b"null")


@contextlib.contextmanager
def running_sluice(serve_args, simulator_args=("--tokens", "120", "--delay-ms", "25"), user="tester", titles=False):
    """A simulator and a real `sluice serve` in front of it on free loopback ports, with an unlimited user; both
    stopped afterwards. `serve_args(simulator_port, workdir)` gives the server's arguments besides its port and
    database. Without `titles` the server writes no titles (`--title-model off`): the web app's call after a first
    answer would otherwise add a call, a ledger row and a rename behind the back of tests that count them."""
    workdir = tempfile.mkdtemp(prefix="sluice-ui-")
    db = os.path.join(workdir, "db.sqlite")
    simulator_port, port = free_port(), free_port()
    processes = [subprocess.Popen(
        [SLUICE, "simulate", "--port", str(simulator_port), *simulator_args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)]
    try:
        wait_for(f"http://127.0.0.1:{simulator_port}/health")
        # Unlimited, so that the tests' answers are never cut by a budget; budget tests add their own users.
        token = subprocess.run([SLUICE, "user", "add", user, "--plan", "unlimited", "--db", db], check=True, capture_output=True,
                               text=True).stdout.strip().splitlines()[-1]
        processes.append(subprocess.Popen(
            [SLUICE, "serve", "--port", str(port), "--db", db, *serve_args(simulator_port, workdir),
             "--web-root", os.path.join(ROOT, "web"), *([] if titles else ["--title-model", "off"])],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={key: value for key, value in os.environ.items() if not key.startswith("SLUICE_")},
            # As from a terminal, whatever started the tests (`nohup` has SIGHUP ignored, and a child inherits that).
            preexec_fn=lambda: signal.signal(signal.SIGHUP, signal.SIG_DFL)))
        wait_for(f"http://127.0.0.1:{port}/healthz")
        running = Server(f"http://127.0.0.1:{port}", token, simulator_port, db)
        running.process = processes[-1]  # for tests that stop the server under the page
        yield running
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


@pytest.fixture(scope="session", autouse=True)
def own_temporary_folder():
    """Every `tempfile` folder and file the tests make (databases, models files, logs) goes into one folder that is
    removed at the end, so that a run leaves nothing in /tmp."""
    folder = tempfile.mkdtemp(prefix="sluice-e2e-")
    # Others may pass through (not list it): a test's own PostgreSQL runs as the postgres user, in a folder here.
    os.chmod(folder, 0o711)
    previous, tempfile.tempdir = tempfile.tempdir, folder
    try:
        yield folder
    finally:
        tempfile.tempdir = previous
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def server():
    # `priced-sim`: the same simulator at $1 000 per million tokens, for tests of dollar limits.
    with running_sluice(lambda simulator_port, _: [
            "--model", "sim", "--price", "priced-sim=1000/1000", "--upstream", f"http://127.0.0.1:{simulator_port}/v1"]) as running:
        yield running


@pytest.fixture
def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1100,800"]:
        options.add_argument(argument)
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    driver = webdriver.Chrome(service=webdriver.ChromeService(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")),
                              options=options)
    yield driver
    driver.quit()


def menu_item(browser, element_id):
    """An item of the account menu at the foot of the sidebar (Usage, API keys, Personalize, the data controls, Sign
    out…), the menu opened with a click on the user's name when it is closed, as a user reaches it."""
    item = browser.find_element(By.ID, element_id)
    if not item.is_displayed():
        browser.find_element(By.ID, "account-menu-button").click()
        WebDriverWait(browser, 5).until(lambda _: item.is_displayed())
    return item


def project_action(browser, name, action):
    """Chooses `action` (start, edit, remove) in the "⋯" menu of the project named `name` in the sidebar, which shows
    while the pointer is over the project, as a user does."""
    from selenium.webdriver.common.action_chains import ActionChains
    head = WebDriverWait(browser, 10).until(lambda d: next(
        e for e in d.find_elements(By.CSS_SELECTOR, "#project-list .project-head")
        if e.find_element(By.CSS_SELECTOR, ".project-open").text.rsplit(" ", 1)[0] == name))
    ActionChains(browser).move_to_element(head).perform()
    head.find_element(By.CSS_SELECTOR, ".project-more").click()
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, f".popup-menu .project-{action}")).click()


def conversation_action(browser, item, action):
    """Chooses `action` (pin, rename, move, archive, delete) in the "⋯" menu of a listed conversation (`item`, its
    `li`, or a CSS selector for it, found again when the list is redrawn meanwhile), which shows while the pointer is
    over the conversation, as a user does."""
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.common.action_chains import ActionChains
    for attempt in range(5):
        try:
            found = browser.find_element(By.CSS_SELECTOR, item) if isinstance(item, str) else item
            ActionChains(browser).move_to_element(found).perform()
            found.find_element(By.CSS_SELECTOR, ".conversation-more").click()
            break
        except StaleElementReferenceException:
            if not isinstance(item, str) or attempt == 4:
                raise
    choice = WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, f".popup-menu .conversation-{action}"))
    choice.click()
