"""Signing in with a name and password in a real headless Chromium: the sign-in form, a wrong password said in the
form, Sign out ending the session on the server, the Password page (set, then change with the current one), and an
administrator giving a user a password on the Users page."""
import json
import sqlite3
import urllib.request

from selenium.webdriver.common.by import By

from conftest import menu_item, running_sluice
from test_chat_ui import WebDriverWait
from test_cli import me_status as status
from test_conversation_edit_ui import api, new_user, open_as, titles
from test_users_ui import open_users, row


def signed_out_page(browser, server):
    """The page with nothing of anyone's kept: the sign-in view."""
    browser.get("about:blank")
    browser.get(server.base + "/")
    browser.execute_script("localStorage.clear(); sessionStorage.clear()")
    browser.get("about:blank")
    browser.get(server.base + "/")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "sign-in").is_displayed())


def sign_in(browser, name, password):
    for field, text in [("sign-in-name", name), ("sign-in-password", password)]:
        browser.find_element(By.ID, field).clear()
        browser.find_element(By.ID, field).send_keys(text)
    browser.find_element(By.CSS_SELECTOR, "#password-sign-in button[type=submit]").click()


def api_sign_in(server, name, password, user_agent=None):
    headers = {"Content-Type": "application/json"} | ({"User-Agent": user_agent} if user_agent else {})
    request = urllib.request.Request(
        server.base + "/api/sign-in", data=json.dumps({"name": name, "password": password}).encode(),
        headers=headers, method="POST")
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.load(response)["token"]


def kept_token(browser):
    return browser.execute_script("return localStorage.getItem('sluice.token')")


def test_a_user_signs_in_by_name_and_password_and_sign_out_ends_that_session_on_the_server(browser, server):
    token = new_user(server, "pw-ui")
    api(server, token, "POST", "/api/conversations", {"title": "Garden plans"})
    api(server, token, "PUT", "/api/me/password", {"password": "green fingers"})
    signed_out_page(browser, server)
    # The name field is where typing goes first.
    assert browser.switch_to.active_element == browser.find_element(By.ID, "sign-in-name")

    sign_in(browser, "pw-ui", "green thumbs")
    error = browser.find_element(By.CSS_SELECTOR, "#password-sign-in .sign-in-error")
    WebDriverWait(browser, 15).until(lambda _: "do not match" in error.text)
    assert error.get_attribute("role") == "alert" and kept_token(browser) is None
    assert not browser.find_element(By.ID, "composer").is_displayed()

    sign_in(browser, "pw-ui", "green fingers")
    WebDriverWait(browser, 15).until(lambda d: titles(d) == ["Garden plans"])
    assert browser.find_element(By.ID, "account-name").text == "pw-ui"
    assert not browser.find_element(By.ID, "sign-in").is_displayed() and error.text == ""
    # A session of this browser's own, not the user's token.
    session = kept_token(browser)
    assert session.startswith("sluice_") and session != token and status(server, session) == 200

    menu_item(browser, "sign-out").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "sign-in").is_displayed())
    assert kept_token(browser) is None
    # Ended on the server at once: whoever copied it from this browser cannot use it. The token link still works.
    assert status(server, session) == 401 and status(server, token) == 200


def test_the_password_page_sets_a_password_then_asks_for_the_current_one_to_change_it(browser, server):
    token = new_user(server, "pw-page-ui")
    open_as(browser, server, token)
    menu_item(browser, "password-open").click()
    form = browser.find_element(By.ID, "password-form")
    WebDriverWait(browser, 10).until(lambda _: form.is_displayed())
    # No password yet: none is asked for.
    assert not form.find_element(By.CLASS_NAME, "password-current").is_displayed()
    form.find_element(By.NAME, "password").send_keys("first of many")
    form.find_element(By.NAME, "again").send_keys("first of mary")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    said = form.find_element(By.CLASS_NAME, "password-status")
    WebDriverWait(browser, 10).until(lambda _: "differ" in said.text)
    assert said.get_attribute("role") == "alert"
    assert api(server, token, "GET", "/api/me")["has_password"] is False
    form.find_element(By.NAME, "again").clear()
    form.find_element(By.NAME, "again").send_keys("first of many")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda _: said.text.startswith("Saved"))
    assert api(server, token, "GET", "/api/me")["has_password"] is True

    # Now the current one is asked for, and a wrong one changes nothing.
    current = form.find_element(By.NAME, "current")
    assert current.is_displayed()
    current.send_keys("first of mary")
    form.find_element(By.NAME, "password").send_keys("second of many")
    form.find_element(By.NAME, "again").send_keys("second of many")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda _: "not right" in said.text)
    current.clear()
    current.send_keys("first of many")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda _: said.text.startswith("Saved"))

    # Another browser signed in with it is signed out from here; this one stays.
    elsewhere = api_sign_in(server, "pw-page-ui", "second of many")
    assert status(server, elsewhere) == 200
    form.find_element(By.CLASS_NAME, "password-sign-out-others").click()
    WebDriverWait(browser, 15).until(lambda _: "1 other browser was signed out" in said.text)
    assert status(server, elsewhere) == 401
    assert api(server, token, "GET", "/api/me")["name"] == "pw-page-ui"

    signed_out_page(browser, server)
    sign_in(browser, "pw-page-ui", "second of many")
    WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "account-name").text == "pw-page-ui")


IPHONE = "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Version/18.0 Mobile/15E148 Safari/604.1"


def browsers_listed(form):
    return [(item.find_element(By.CLASS_NAME, "browser-name").text, item.find_element(By.CLASS_NAME, "browser-detail").text,
             bool(item.find_elements(By.CLASS_NAME, "browser-current")))
            for item in form.find_elements(By.CSS_SELECTOR, ".browsers-list li")]


def test_the_password_page_lists_the_signed_in_browsers_and_signs_one_out(browser, server):
    token = new_user(server, "pw-browsers-ui")
    api(server, token, "PUT", "/api/me/password", {"password": "many windows"})
    phone = api_sign_in(server, "pw-browsers-ui", "many windows", user_agent=IPHONE)
    # What a browser sends is shown as text, never as markup.
    odd = api_sign_in(server, "pw-browsers-ui", "many windows", user_agent='<img src=x onerror="document.title=1">/1.0')
    # The phone was last used three hours ago.
    with sqlite3.connect(server.db) as db:
        db.execute("UPDATE sessions SET last_active_at = last_active_at - 3 * 3600 * 1000 WHERE user_agent = ?", (IPHONE,))
    signed_out_page(browser, server)
    sign_in(browser, "pw-browsers-ui", "many windows")
    WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "account-name").text == "pw-browsers-ui")
    menu_item(browser, "password-open").click()
    form = browser.find_element(By.ID, "password-form")
    WebDriverWait(browser, 10).until(lambda _: len(browsers_listed(form)) == 3)
    listed = browsers_listed(form)
    # The newest first: this one (headless Chromium on Linux), marked, without a Sign out of its own.
    assert listed[0][0] == "Headless Chrome on Linux" and listed[0][2]
    assert [name for name, _, _ in listed[1:]] == ["<img", "Safari on iOS"]
    assert all(detail.startswith("127.0.0.1 · signed in ") for _, detail, _ in listed)
    assert listed[1][1].endswith(" · active just now") and listed[2][1].endswith(" · active 3 hours ago")
    assert "active" not in listed[0][1]
    items = form.find_elements(By.CSS_SELECTOR, ".browsers-list li")
    assert not items[0].find_elements(By.TAG_NAME, "button") and not form.find_elements(By.CSS_SELECTOR, ".browsers-list img")
    assert items[2].find_element(By.CLASS_NAME, "browser-name").get_attribute("title") == IPHONE

    items[2].find_element(By.TAG_NAME, "button").click()
    said = form.find_element(By.CLASS_NAME, "password-status")
    WebDriverWait(browser, 15).until(lambda _: said.text == "Safari on iOS is signed out.")
    WebDriverWait(browser, 10).until(lambda _: len(browsers_listed(form)) == 2)
    assert status(server, phone) == 401 and status(server, odd) == 200 and status(server, kept_token(browser)) == 200

    form.find_element(By.CLASS_NAME, "password-sign-out-others").click()
    WebDriverWait(browser, 15).until(lambda _: [current for _, _, current in browsers_listed(form)] == [True])
    assert status(server, odd) == 401 and browser.title != "1"


def test_an_administrator_signs_a_user_out_of_every_browser_on_the_users_page(browser, server):
    token = new_user(server, "pw-lost-laptop-ui")
    api(server, token, "PUT", "/api/me/password", {"password": "left on a train"})
    sessions = [api_sign_in(server, "pw-lost-laptop-ui", "left on a train") for _ in range(2)]
    page = open_users(browser, server)
    WebDriverWait(browser, 10).until(lambda _: row(page, "pw-lost-laptop-ui") is not None)
    row(page, "pw-lost-laptop-ui").find_element(By.XPATH, ".//button[text()='Sign out everywhere']").click()
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert).accept()
    WebDriverWait(browser, 15).until(
        lambda _: page.find_element(By.CLASS_NAME, "users-status").text == "pw-lost-laptop-ui was signed out of 2 browsers.")
    assert [status(server, session) for session in sessions] == [401, 401] and status(server, token) == 200


def test_an_administrator_gives_a_new_user_and_an_existing_one_a_password_they_sign_in_with(browser, server):
    page = open_users(browser, server)
    page.find_element(By.CLASS_NAME, "users-name").send_keys("pw-new-ui")
    page.find_element(By.CLASS_NAME, "users-password").send_keys("handed over")
    page.find_element(By.CSS_SELECTOR, ".users-form button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda _: row(page, "pw-new-ui") is not None)
    assert page.find_element(By.CLASS_NAME, "users-password").get_attribute("value") == ""

    new_user(server, "pw-old-ui")
    page = open_users(browser, server)
    WebDriverWait(browser, 10).until(lambda _: row(page, "pw-old-ui") is not None)
    row(page, "pw-old-ui").find_element(By.XPATH, ".//button[text()='Set password']").click()
    form = page.find_element(By.CLASS_NAME, "users-password-form")
    WebDriverWait(browser, 10).until(lambda _: form.is_displayed())
    assert "pw-old-ui" in form.text and not form.find_element(By.CLASS_NAME, "users-password-remove").is_displayed()
    form.find_element(By.CLASS_NAME, "users-new-password").send_keys("set for you")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda _: "password is set" in page.find_element(By.CLASS_NAME, "users-status").text)
    assert not form.is_displayed()
    WebDriverWait(browser, 10).until(
        lambda _: row(page, "pw-old-ui").find_elements(By.XPATH, ".//button[text()='Change password']"))

    for name, password in [("pw-new-ui", "handed over"), ("pw-old-ui", "set for you")]:
        signed_out_page(browser, server)
        sign_in(browser, name, password)
        WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "account-name").text == name)


def test_with_approval_a_visitor_makes_an_account_that_waits_until_an_administrator_approves_it(browser):
    with running_sluice(lambda simulator_port, _: [
            "--model", "sim", "--upstream", f"http://127.0.0.1:{simulator_port}/v1", "--sign-up", "approval"]) as server:
        signed_out_page(browser, server)
        offer = browser.find_element(By.CSS_SELECTOR, "#sign-in .sign-up-offer")
        WebDriverWait(browser, 10).until(lambda _: offer.is_displayed())
        browser.find_element(By.ID, "sign-up-toggle").click()
        assert browser.find_element(By.CSS_SELECTOR, "#sign-in .sign-in-title").text == "Create an account"
        sign_in(browser, "visitor", "let me in please")
        note = browser.find_element(By.CSS_SELECTOR, "#password-sign-in .sign-in-note")
        WebDriverWait(browser, 15).until(lambda _: "waits for an administrator's approval" in note.text)
        # Back to signing in; the account is refused until approved, with words that say so.
        assert browser.find_element(By.CSS_SELECTOR, "#sign-in .sign-in-title").text == "Sign in"
        sign_in(browser, "visitor", "let me in please")
        error = browser.find_element(By.CSS_SELECTOR, "#password-sign-in .sign-in-error")
        WebDriverWait(browser, 15).until(lambda _: "approval" in error.text)

        page = open_users(browser, server)
        WebDriverWait(browser, 10).until(lambda _: row(page, "visitor") is not None)
        assert "waiting for approval" in row(page, "visitor").find_element(By.CLASS_NAME, "admin-badge").text
        row(page, "visitor").find_element(By.XPATH, ".//button[text()='Approve']").click()
        WebDriverWait(browser, 10).until(lambda _: not row(page, "visitor").find_elements(By.CLASS_NAME, "admin-badge"))

        signed_out_page(browser, server)
        sign_in(browser, "visitor", "let me in please")
        WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "account-name").text == "visitor")


def test_without_sign_up_the_sign_in_page_offers_no_account(browser, server):
    signed_out_page(browser, server)
    # Asked of the server when the view shows: wait for its answer before looking.
    WebDriverWait(browser, 10).until(lambda d: d.execute_script(
        "return performance.getEntriesByType('resource').some((entry) => entry.name.endsWith('/api/sign-up'))"))
    assert not browser.find_element(By.CSS_SELECTOR, "#sign-in .sign-up-offer").is_displayed()
