"""The Password page's recent security activity in a real headless Chromium: a wrong password tried on the user's
name from another browser, their sign-ins and their changes, newest first, with where each came from — what a browser
sent shown as text, never as markup."""
import json
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By

from conftest import menu_item
from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as
from test_sign_in_ui import IPHONE


def try_sign_in(server, name, password, user_agent):
    request = urllib.request.Request(
        server.base + "/api/sign-in", data=json.dumps({"name": name, "password": password}).encode(),
        headers={"Content-Type": "application/json", "User-Agent": user_agent}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def test_the_password_page_shows_sign_ins_refused_ones_and_changes_with_where_they_came_from(browser, server):
    token = new_user(server, "security-log-ui")
    api(server, token, "PUT", "/api/me/password", {"password": "guess me not"})
    assert try_sign_in(server, "security-log-ui", "guess me", IPHONE) == 401
    assert try_sign_in(server, "security-log-ui", "guess me not", '<img src=x onerror="document.title=1">/1.0') == 200
    open_as(browser, server, token)
    menu_item(browser, "password-open").click()
    section = browser.find_element(By.CSS_SELECTOR, "#password-form .security-log")
    WebDriverWait(browser, 10).until(lambda _: len(section.find_elements(By.TAG_NAME, "li")) == 3)
    items = section.find_elements(By.TAG_NAME, "li")
    what = [item.find_element(By.CLASS_NAME, "security-what").text for item in items]
    assert what == ["Signed in", "Sign-in refused, wrong password", "Password changed"]
    detail = [item.find_element(By.CLASS_NAME, "security-detail").text for item in items]
    assert detail[1].startswith("Safari on iOS · 127.0.0.1 · ")
    # What a browser sent is text: no image was made of it, and its script did not run.
    assert detail[0].startswith("<img") and not section.find_elements(By.TAG_NAME, "img") and browser.title != "1"
    assert "sign_in_refused" in items[1].get_attribute("class")

    # Changing the password from this page adds to the list at once.
    form = browser.find_element(By.ID, "password-form")
    form.find_element(By.NAME, "current").send_keys("guess me not")
    form.find_element(By.NAME, "password").send_keys("a better one")
    form.find_element(By.NAME, "again").send_keys("a better one")
    form.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda _: len(section.find_elements(By.TAG_NAME, "li")) == 4)
    assert section.find_elements(By.CLASS_NAME, "security-what")[0].text == "Password changed"


def test_an_administrator_sees_a_users_browsers_and_log_on_the_users_page_and_signs_one_browser_out(browser, server):
    from test_sign_in_ui import api_sign_in
    from test_users_ui import open_users, row
    from test_cli import me_status as status

    token = new_user(server, "security-admin-ui")
    api(server, token, "PUT", "/api/me/password", {"password": "reported it"})
    assert try_sign_in(server, "security-admin-ui", "wrong guess", IPHONE) == 401
    stranger = api_sign_in(server, "security-admin-ui", "reported it", user_agent=IPHONE)
    own = api_sign_in(server, "security-admin-ui", "reported it",
                      user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0")
    page = open_users(browser, server)
    WebDriverWait(browser, 10).until(lambda _: row(page, "security-admin-ui") is not None)
    row(page, "security-admin-ui").find_element(By.XPATH, ".//button[text()='Security']").click()
    panel = page.find_element(By.CLASS_NAME, "user-security")
    WebDriverWait(browser, 10).until(lambda _: len(panel.find_elements(By.CSS_SELECTOR, ".browsers-list li")) == 2)
    assert panel.find_element(By.CLASS_NAME, "user-security-name").text == "security-admin-ui's sign-in"
    log = [item.text for item in panel.find_elements(By.CLASS_NAME, "security-what")]
    assert log[:3] == ["Signed in", "Signed in", "Sign-in refused, wrong password"]

    iphone = next(item for item in panel.find_elements(By.CSS_SELECTOR, ".browsers-list li")
                  if item.find_element(By.CLASS_NAME, "browser-name").text == "Safari on iOS")
    iphone.find_element(By.TAG_NAME, "button").click()
    WebDriverWait(browser, 15).until(lambda _: len(panel.find_elements(By.CSS_SELECTOR, ".browsers-list li")) == 1)
    assert "Safari on iOS is signed out" in page.find_element(By.CLASS_NAME, "users-status").text
    assert status(server, stranger) == 401 and status(server, own) == 200
    panel.find_element(By.CLASS_NAME, "user-security-close").click()
    assert not panel.is_displayed()
    events = api(server, token, "GET", "/api/me/security-log")["events"]
    assert events[0]["kind"] == "signed_out_elsewhere" and events[0]["detail"].startswith("by administrator ")


def test_signing_in_after_refused_tries_says_how_many_were_refused(browser, server):
    from test_sign_in_ui import signed_out_page, sign_in

    token = new_user(server, "security-notice-ui")
    api(server, token, "PUT", "/api/me/password", {"password": "watch this"})
    for guess in ["watch that", "watch it"]:
        assert try_sign_in(server, "security-notice-ui", guess, IPHONE) == 401
    signed_out_page(browser, server)
    sign_in(browser, "security-notice-ui", "watch this")
    WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "account-name").text == "security-notice-ui")
    banner = browser.find_element(By.ID, "banner")
    WebDriverWait(browser, 10).until(lambda _: "2 sign-ins with your name were refused" in banner.text)
    assert "Recent security activity" in banner.text
