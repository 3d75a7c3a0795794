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
