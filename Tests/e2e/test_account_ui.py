"""Who is signed in, and signing out, in a real headless Chromium: the sidebar names the user; Sign out leaves nothing
of theirs in the browser — not the token, not the model picked — and the page asks for a token again."""
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import menu_item
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

    menu_item(browser, "sign-out").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "sign-in").is_displayed())
    assert kept(browser) == []
    assert not browser.find_element(By.ID, "account").is_displayed()
    assert titles(browser) == [] and not browser.find_element(By.ID, "composer").is_displayed()
    # Signing in again with the token brings the user back.
    browser.find_element(By.ID, "token-input").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "#token-form button").click()
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Private plans"])
    assert browser.find_element(By.ID, "account-name").text == "account-ui"


def test_the_account_menu_opens_from_the_users_name_by_mouse_and_keyboard(browser, server):
    token = new_user(server, "menu-ui")
    open_as(browser, server, token)
    button = browser.find_element(By.ID, "account-menu-button")
    menu = browser.find_element(By.ID, "account-menu")
    WebDriverWait(browser, 10).until(lambda d: button.is_displayed())
    assert browser.find_element(By.ID, "account-avatar").text == "M"
    # Closed at first: the pages and the data controls wait behind the user's name, out of the list's way.
    assert not menu.is_displayed() and button.get_attribute("aria-expanded") == "false"
    assert not browser.find_element(By.ID, "usage-open").is_displayed()
    # A click opens it and a click elsewhere closes it.
    button.click()
    assert menu.is_displayed() and button.get_attribute("aria-expanded") == "true"
    items = [e.text for e in menu.find_elements(By.CSS_SELECTOR, "[role^='menuitem']") if e.is_displayed()]
    assert items[:6] == ["Usage", "API keys", "Shared links", "Personalize", "Password", "Prompts"] and items[-1] == "Sign out"
    browser.find_element(By.ID, "messages").click()
    WebDriverWait(browser, 5).until(lambda d: not menu.is_displayed())
    assert button.get_attribute("aria-expanded") == "false"
    # From the keyboard: Enter opens it on its first item, ↓ / ↑ / End move, Escape closes it back to the button.
    browser.execute_script("arguments[0].focus()", button)
    button.send_keys(Keys.ENTER)
    WebDriverWait(browser, 5).until(lambda d: menu.is_displayed())
    focused = lambda: browser.switch_to.active_element.get_attribute("id")
    assert focused() == "usage-open"
    browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert focused() == "keys-open"
    browser.switch_to.active_element.send_keys(Keys.ARROW_UP, Keys.ARROW_UP)
    assert focused() == "sign-out"
    browser.switch_to.active_element.send_keys(Keys.HOME)
    assert focused() == "usage-open"
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    WebDriverWait(browser, 5).until(lambda d: not menu.is_displayed())
    assert focused() == "account-menu-button"
    # Choosing an item does what it says and closes the menu.
    menu_item(browser, "usage-open").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "usage-page").is_displayed())
    assert not menu.is_displayed()
