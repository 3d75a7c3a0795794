"""The administrator's Users page: add a user whose sign-in link works, change their plan and limits, issue a new
token, and the role; a user who is not an administrator is not offered the page, and the server refuses them."""
import urllib.error
import urllib.request

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from conftest import menu_item
from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api
from test_gateway import client


def open_users(browser, server):
    # From another page: a change of the address's fragment alone would not load the page again.
    browser.get("about:blank")
    browser.get(f"{server.base}/#token={server.token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())
    menu_item(browser, "users-open").click()
    page = browser.find_element(By.ID, "users-page")
    WebDriverWait(browser, 10).until(lambda d: page.is_displayed())
    return page


def row(page, name, table="users-table"):
    """`name`'s row of the users table (or of the table of class `table`), or None before it is listed."""
    for item in page.find_elements(By.CSS_SELECTOR, f".{table} tbody tr"):
        if item.get_attribute("data-name") == name:
            return item
    return None


def status_with(token, path):
    request = urllib.request.Request(path, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def open_everyones_usage(browser, server):
    """The administrator's Usage page, switched to everyone's usage; returns the page."""
    browser.get(f"{server.base}/#token={server.token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())
    menu_item(browser, "usage-open").click()
    page = browser.find_element(By.ID, "usage-page")
    WebDriverWait(browser, 10).until(lambda d: page.find_element(By.CLASS_NAME, "usage-totals").text)
    # One's own usage lists no one else's users or teams.
    assert not page.find_element(By.CLASS_NAME, "usage-users").is_displayed()
    assert not page.find_element(By.CLASS_NAME, "usage-teams").is_displayed()
    Select(page.find_element(By.CLASS_NAME, "usage-scope")).select_by_value("all")
    return page


def user_named(server, name):
    return next(user for user in server.api("GET", "/api/admin/users")["users"] if user["name"] == name)


def test_an_administrator_adds_a_user_whose_link_signs_them_in_and_changes_their_plan_limits_token_and_role(browser, server):
    page = open_users(browser, server)
    # Markup in a name ('/' is not allowed in one: names go in paths).
    name = "<img src=x onerror=alert(1)> ana"
    page.find_element(By.CLASS_NAME, "users-name").send_keys(name)
    Select(page.find_element(By.CLASS_NAME, "users-plan")).select_by_value("pro")
    page.find_element(By.CSS_SELECTOR, ".users-form button[type=submit]").click()
    shown = page.find_element(By.CLASS_NAME, "users-new")
    WebDriverWait(browser, 10).until(lambda d: shown.is_displayed())
    link = page.find_element(By.CLASS_NAME, "users-new-value").get_attribute("value")
    assert link.startswith(f"{server.base}/#token=sluice_")
    token = link.split("#token=")[1]
    # The name is text, in the notice and in the list: its markup stays inert.
    assert page.find_element(By.CLASS_NAME, "users-new-name").text == name
    WebDriverWait(browser, 10).until(lambda d: row(page, name) is not None)
    assert not page.find_elements(By.CSS_SELECTOR, ".users-table img")
    cells = [cell.text for cell in row(page, name).find_elements(By.TAG_NAME, "td")]
    assert cells[0] == name and cells[3] == "0 of 50,000" and cells[4:7] == ["none", "none", "all"]
    assert Select(row(page, name).find_element(By.CLASS_NAME, "users-row-plan")).first_selected_option.text == "pro"

    # Her plan, from its picker: the server has it at once.
    Select(row(page, name).find_element(By.CLASS_NAME, "users-row-plan")).select_by_value("free")
    WebDriverWait(browser, 10).until(lambda d: user_named(server, name)["plan"] == "free")
    assert user_named(server, name)["token_limit"] == 4000
    WebDriverWait(browser, 10).until(lambda d: "of 4,000" in row(page, name).find_elements(By.TAG_NAME, "td")[3].text)

    # Her limits and models.
    row(page, name).find_element(By.CSS_SELECTOR, "button[aria-label^='Change the limits of']").click()
    limits = page.find_element(By.CLASS_NAME, "users-limits")
    WebDriverWait(browser, 5).until(lambda d: limits.is_displayed())
    # The form shows her limits as they are: the plan's 4 000 tokens, no daily limit.
    tokens = limits.find_element(By.CLASS_NAME, "users-token-limit")
    assert tokens.get_attribute("value") == "4000" and limits.find_element(By.CLASS_NAME, "users-daily").get_attribute("value") == ""
    tokens.clear()
    tokens.send_keys("900")
    limits.find_element(By.CLASS_NAME, "users-daily").send_keys("2.50")
    Select(limits.find_element(By.CLASS_NAME, "users-models")).select_by_value("sim")
    limits.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: not limits.is_displayed())
    changed = user_named(server, name)
    assert (changed["token_limit"], changed["daily_usd_limit"], changed["models"]) == (900, "2.5", ["sim"])
    WebDriverWait(browser, 10).until(
        lambda d: [c.text for c in row(page, name).find_elements(By.TAG_NAME, "td")][3:7] == ["0 of 900", "$2.5 ($0 today)", "none", "sim"])

    # A new token: the old one stops working, the new link signs her in.
    row(page, name).find_element(By.CSS_SELECTOR, "button[aria-label^='Issue a new token for']").click()
    browser.switch_to.alert.accept()
    WebDriverWait(browser, 10).until(lambda d: page.find_element(By.CLASS_NAME, "users-new-value").get_attribute("value") != link)
    link = page.find_element(By.CLASS_NAME, "users-new-value").get_attribute("value")
    assert status_with(token, f"{server.base}/api/me") == 401
    new_token = link.split("#token=")[1]

    # She is no administrator: no Users in her menu, and the server refuses her the list.
    browser.get("about:blank")
    browser.get(link)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "account-name").text == name)
    browser.find_element(By.ID, "account-menu-button").click()
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "sign-out").is_displayed())
    assert not browser.find_element(By.ID, "users-open").is_displayed()
    assert status_with(new_token, f"{server.base}/api/admin/users") == 403

    # Made an administrator, she is offered the page.
    page = open_users(browser, server)
    WebDriverWait(browser, 10).until(lambda d: row(page, name) is not None)
    row(page, name).find_element(By.CSS_SELECTOR, "button[aria-label^='Make an administrator of']").click()
    WebDriverWait(browser, 10).until(lambda d: row(page, name).find_elements(By.CLASS_NAME, "admin-badge"))
    assert status_with(new_token, f"{server.base}/api/admin/users") == 200
    browser.get("about:blank")
    browser.get(link)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "account-name").text == name)
    assert menu_item(browser, "users-open").is_displayed()
    # The role back, so the shared server keeps one administrator besides the tests' own user.
    server.api("PATCH", f"/api/admin/users/{urllib.request.quote(name)}", {"admin": False})


def test_a_suspended_user_is_refused_with_a_message_that_says_so_until_restored(browser, server):
    added = server.api("POST", "/api/admin/users", {"name": "suspend-ui"})
    page = open_users(browser, server)
    WebDriverWait(browser, 10).until(lambda d: row(page, "suspend-ui") is not None)
    row(page, "suspend-ui").find_element(By.CSS_SELECTOR, "button[aria-label='Suspend suspend-ui']").click()
    browser.switch_to.alert.accept()
    WebDriverWait(browser, 10).until(lambda d: "suspended" in row(page, "suspend-ui").get_attribute("class"))
    assert "suspended" in row(page, "suspend-ui").find_element(By.CLASS_NAME, "admin-badge").text
    assert status_with(added["token"], f"{server.base}/api/me") == 403

    # Her page says what happened and what to do, and offers another sign-in.
    browser.get("about:blank")
    browser.get(f"{server.base}/#token={added['token']}")
    banner = browser.find_element(By.ID, "banner")
    WebDriverWait(browser, 10).until(lambda d: "suspended by an administrator" in banner.text)
    assert "Ask an administrator to restore it" in banner.text
    assert browser.find_element(By.ID, "sign-in").is_displayed()

    page = open_users(browser, server)
    WebDriverWait(browser, 10).until(lambda d: row(page, "suspend-ui") is not None)
    row(page, "suspend-ui").find_element(By.CSS_SELECTOR, "button[aria-label='Restore suspend-ui']").click()
    WebDriverWait(browser, 10).until(lambda d: "suspended" not in row(page, "suspend-ui").get_attribute("class"))
    assert status_with(added["token"], f"{server.base}/api/me") == 200

    # Deleted after asking: gone from the list, the token refused, the name free again.
    row(page, "suspend-ui").find_element(By.CSS_SELECTOR, "button[aria-label='Delete suspend-ui']").click()
    browser.switch_to.alert.accept()
    WebDriverWait(browser, 10).until(lambda d: row(page, "suspend-ui") is None)
    assert status_with(added["token"], f"{server.base}/api/me") == 401
    assert server.api("POST", "/api/admin/users", {"name": "suspend-ui"})["user"]["name"] == "suspend-ui"


def test_find_and_show_narrow_the_list_of_users(browser, server):
    for name in ["find-ui-ada", "find-ui-bo", "Find-UI-cy"]:
        server.api("POST", "/api/admin/users", {"name": name})
    server.api("PATCH", "/api/admin/users/find-ui-bo", {"suspended": True})
    page = open_users(browser, server)
    WebDriverWait(browser, 10).until(lambda _: row(page, "Find-UI-cy") is not None)

    def shown():
        return [item.get_attribute("data-name") for item in page.find_elements(By.CSS_SELECTOR, ".users-table tbody tr")
                if item.is_displayed()]

    total = len(page.find_elements(By.CSS_SELECTOR, ".users-table tbody tr"))
    count = page.find_element(By.CLASS_NAME, "users-count")
    assert count.text == f"{total} users" and len(shown()) == total
    page.find_element(By.CLASS_NAME, "users-search").send_keys("FIND-ui")
    WebDriverWait(browser, 5).until(lambda _: shown() == ["find-ui-ada", "find-ui-bo", "Find-UI-cy"])
    assert count.text == f"3 of {total} users"
    Select(page.find_element(By.CLASS_NAME, "users-show")).select_by_value("suspended")
    WebDriverWait(browser, 5).until(lambda _: shown() == ["find-ui-bo"])
    assert count.text == f"1 of {total} users"
    # What is typed and chosen stays when the list is read again after a change.
    row(page, "find-ui-bo").find_element(By.CSS_SELECTOR, "button[aria-label='Restore find-ui-bo']").click()
    WebDriverWait(browser, 10).until(lambda _: shown() == [])
    assert count.text == f"0 of {total} users"
    Select(page.find_element(By.CLASS_NAME, "users-show")).select_by_value("all")
    WebDriverWait(browser, 5).until(lambda _: len(shown()) == 3)


def test_an_administrator_who_gives_up_the_role_loses_the_page_at_once(browser, server):
    other = server.api("POST", "/api/admin/users", {"name": "second-admin-ui", "admin": True})["token"]
    page = open_users(browser, server)
    WebDriverWait(browser, 10).until(lambda _: row(page, "tester") is not None)
    try:
        row(page, "tester").find_element(By.CSS_SELECTOR, "button[aria-label^='Remove the administrator role of']").click()
        WebDriverWait(browser, 10).until(lambda _: not page.is_displayed())
        assert browser.find_element(By.ID, "users-open").get_attribute("hidden") is not None
        assert "Only an administrator" in browser.find_element(By.ID, "banner").text
    finally:
        # The shared server's own user gets the role back from the other administrator, who then gives up theirs.
        api(server, other, "PATCH", "/api/admin/users/tester", {"admin": True})
        server.api("PATCH", "/api/admin/users/second-admin-ui", {"admin": False})
    assert user_named(server, "tester")["admin"] is True


def test_the_last_administrator_cannot_remove_their_own_role_from_the_page(browser, server):
    page = open_users(browser, server)
    WebDriverWait(browser, 10).until(lambda d: row(page, "tester") is not None)
    for user in server.api("GET", "/api/admin/users")["users"]:
        if user["admin"] and user["name"] != "tester":
            server.api("PATCH", f"/api/admin/users/{urllib.request.quote(user['name'])}", {"admin": False})
    page.find_element(By.CLASS_NAME, "users-close").click()
    menu_item(browser, "users-open").click()
    WebDriverWait(browser, 10).until(lambda d: row(page, "tester") is not None)
    row(page, "tester").find_element(By.CSS_SELECTOR, "button[aria-label^='Remove the administrator role of']").click()
    banner = browser.find_element(By.ID, "banner")
    WebDriverWait(browser, 10).until(lambda d: "only administrator" in banner.text)
    assert user_named(server, "tester")["admin"] is True
    WebDriverWait(browser, 10).until(lambda d: row(page, "tester").find_elements(By.CLASS_NAME, "admin-badge"))


def test_an_administrator_sees_everyones_usage_per_user_and_others_are_not_offered_it(browser, server):
    added = server.api("POST", "/api/admin/users", {"name": "usage-everyone-ui"})
    client(server, added["token"]).chat.completions.create(model="sim", messages=[{"role": "user", "content": "Hi"}])
    page = open_everyones_usage(browser, server)
    users = page.find_element(By.CLASS_NAME, "usage-users")
    WebDriverWait(browser, 10).until(lambda d: users.is_displayed())
    lines = [item.text for item in users.find_elements(By.TAG_NAME, "li")]
    assert any(line.startswith("usage-everyone-ui: ") and "1 answer" in line for line in lines), lines
    assert page.find_element(By.CLASS_NAME, "usage-share-caption").text == "Share per user"
    # Other users' conversations, keys and projects stay theirs.
    for section in ("usage-keys", "usage-projects", "usage-end-users"):
        assert not page.find_element(By.CLASS_NAME, section).is_displayed()

    # Someone who is not an administrator is not offered it.
    browser.get("about:blank")
    browser.get(f"{server.base}/#token={added['token']}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "account-name").text == "usage-everyone-ui")
    menu_item(browser, "usage-open").click()
    page = browser.find_element(By.ID, "usage-page")
    WebDriverWait(browser, 10).until(lambda d: page.find_element(By.CLASS_NAME, "usage-totals").text)
    assert not page.find_element(By.CLASS_NAME, "usage-scope-label").is_displayed()
