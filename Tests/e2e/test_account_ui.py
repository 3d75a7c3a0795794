"""Who is signed in, and signing out, in a real headless Chromium: the sidebar names the user; Sign out leaves nothing
of theirs in the browser — not the token, not the model picked — and the page asks for a token again."""
from selenium.webdriver.common.by import By

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as, titles


def kept(browser):
    return browser.execute_script(
        "return Object.keys(localStorage).filter((key) => key.startsWith('sluice.')).sort()")


def test_the_sidebar_names_the_user_and_sign_out_forgets_them(browser, server):
    token = new_user(server, "account-ui")
    api(server, token, "POST", "/api/conversations", {"title": "Private plans"})
    open_as(browser, server, token)
    account = browser.find_element(By.ID, "account")
    assert account.is_displayed() and browser.find_element(By.ID, "account-name").text == "account-ui"
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Private plans"])
    # The page keeps the token and the model picked in this browser.
    browser.execute_script("localStorage.setItem('sluice.model', 'sim')")
    assert "sluice.token" in kept(browser) and "sluice.model" in kept(browser)

    account.find_element(By.ID, "sign-out").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "sign-in").is_displayed())
    assert kept(browser) == []
    assert not browser.find_element(By.ID, "account").is_displayed()
    assert titles(browser) == [] and not browser.find_element(By.ID, "composer").is_displayed()
    # Signing in again with the token brings the user back.
    browser.find_element(By.ID, "token-input").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Private plans"])
    assert browser.find_element(By.ID, "account-name").text == "account-ui"
