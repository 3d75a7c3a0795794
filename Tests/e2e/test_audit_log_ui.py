"""The Users page's audit log in a real headless Chromium, and `sluice audit`: who changed which user, team or key,
with each setting before and after — a change made on the page shows at once; the page narrows by name and kind and
reads 50 entries at a time and downloads them as CSV; names are shown as text, never as markup."""
import subprocess

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import SLUICE
from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user
from test_users_ui import open_users, row


def entries(page):
    """The audit log's entries shown: (what, [changes]) each."""
    return [(item.find_element(By.CLASS_NAME, "audit-what").text,
             [change.text for change in item.find_elements(By.CSS_SELECTOR, ".audit-changes li")])
            for item in page.find_elements(By.CSS_SELECTOR, ".audit-list > li")]


def narrow(browser, page, name):
    box = page.find_element(By.CLASS_NAME, "audit-name")
    box.clear()
    box.send_keys(name)
    WebDriverWait(browser, 10).until(
        lambda _: entries(page) and all(name in what for what, _ in entries(page)))


def test_a_change_on_the_users_page_is_in_the_audit_log_at_once_with_its_settings_before_and_after(browser, server):
    new_user(server, "audit-ui")
    page = open_users(browser, server)
    WebDriverWait(browser, 10).until(lambda _: row(page, "audit-ui") is not None)
    narrow(browser, page, "audit-ui")
    # Made with `sluice user add` on the server: the command is the actor, and there is no address.
    made = entries(page)
    assert made[0][0] == "sluice user add added user audit-ui"
    assert "Plan: none → unlimited" in made[0][1] and "Status: none → active" in made[0][1]
    detail = page.find_element(By.CSS_SELECTOR, ".audit-list > li .security-detail").text
    assert detail.endswith("· on the server")

    Select(row(page, "audit-ui").find_element(By.CLASS_NAME, "users-row-plan")).select_by_value("pro")
    WebDriverWait(browser, 15).until(lambda _: len(entries(page)) == 2)
    what, changes = entries(page)[0]
    assert what == "tester changed user audit-ui"
    assert "Plan: unlimited → pro" in changes
    assert page.find_element(By.CSS_SELECTOR, ".audit-list > li .security-detail").text.endswith("127.0.0.1")

    # Download CSV: the entries the name asks for, as a spreadsheet (the link is caught, not followed).
    browser.execute_script("""
        window.__downloads = [];
        HTMLAnchorElement.prototype.click = function () {
          if (this.download) fetch(this.href).then((r) => r.text()).then((text) => window.__downloads.push([this.download, text]));
        };
    """)
    page.find_element(By.CLASS_NAME, "audit-csv").click()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return window.__downloads.length"))
    name, text = browser.execute_script("return window.__downloads[0]")
    rows = text.splitlines()
    assert name == "sluice-audit-log.csv" and len(rows) == 3
    assert ",tester," in rows[1] and ",user.changed,user,audit-ui,," in rows[1] and "plan: unlimited → pro" in rows[1]
    assert rows[2].split(",")[1:3] == ["sluice user add", ""]

    # Only API keys: this user has none, and the page says the log holds nothing of the kind.
    Select(page.find_element(By.CLASS_NAME, "audit-kind")).select_by_value("key")
    WebDriverWait(browser, 10).until(lambda _: page.find_element(By.CLASS_NAME, "audit-empty").is_displayed())
    assert entries(page) == []

    # `sluice audit` prints the same, one change a line.
    printed = subprocess.run([SLUICE, "audit", "--name", "audit-ui", "--db", server.db], check=True, capture_output=True,
                             text=True).stdout.splitlines()
    assert printed[0].split("\t") == ["at", "by", "action", "target", "changes", "address"]
    newest = printed[1].split("\t")
    assert newest[1:4] == ["tester", "user.changed", "audit-ui"] and "plan: unlimited → pro" in newest[4]
    assert printed[2].split("\t")[1:4] == ["sluice user add", "user.added", "audit-ui"]


def test_the_audit_log_reads_50_at_a_time_and_shows_names_as_text(browser, server):
    name = '<img src=x onerror="document.title=1">'
    api(server, server.token, "POST", "/api/admin/teams", {"name": name})
    for cents in range(101, 152):
        api(server, server.token, "PATCH", "/api/admin/teams/%3Cimg%20src%3Dx%20onerror%3D%22document.title%3D1%22%3E",
            {"daily_usd": f"{cents / 100:.2f}"})
    page = open_users(browser, server)
    narrow(browser, page, name)
    shown = entries(page)
    assert len(shown) == 50
    assert shown[0] == (f"tester changed team {name}", ["Daily limit $: 1.5 → 1.51"])
    assert not page.find_elements(By.CSS_SELECTOR, ".audit-list img") and browser.title != "1"
    more = page.find_element(By.CLASS_NAME, "audit-more")
    assert more.is_displayed()
    more.click()
    WebDriverWait(browser, 10).until(lambda _: len(entries(page)) == 52)
    assert entries(page)[-1] == (f"tester added team {name}", [f"Name: none → {name}"])
    assert not more.is_displayed()
