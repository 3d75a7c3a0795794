"""The theme in a real headless Chromium: the system's by default (light or dark, as it changes), or light or dark
chosen in Personalize — at once, kept in this browser across reloads, and highlight.js's colours following it."""
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import new_user, open_as

LIGHT, DARK = "rgb(255, 255, 255)", "rgb(22, 23, 27)"


def system(browser, scheme):
    browser.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-color-scheme", "value": scheme}]})


def background(browser):
    return browser.execute_script("return getComputedStyle(document.body).backgroundColor")


def highlight_media(browser, scheme):
    return browser.find_element(By.CSS_SELECTOR, f'link[data-highlight="{scheme}"]').get_attribute("media")


def test_the_theme_follows_the_system_until_one_is_chosen_and_the_choice_is_kept(browser, server):
    token = new_user(server, "theme-ui")
    system(browser, "light")
    open_as(browser, server, token)
    assert background(browser) == LIGHT
    system(browser, "dark")
    WebDriverWait(browser, 5).until(lambda d: background(d) == DARK)

    browser.find_element(By.ID, "personalize-open").click()
    choice = Select(browser.find_element(By.ID, "theme-select"))
    assert choice.first_selected_option.get_attribute("value") == "system"
    choice.select_by_value("light")
    WebDriverWait(browser, 5).until(lambda d: background(d) == LIGHT)
    assert highlight_media(browser, "light") == "all" and highlight_media(browser, "dark") == "not all"

    # Kept in this browser: after a reload the page is drawn light although the system is dark.
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())
    assert background(browser) == LIGHT
    assert browser.execute_script("return localStorage.getItem('sluice.theme')") == "light"
    browser.find_element(By.ID, "personalize-open").click()
    choice = Select(browser.find_element(By.ID, "theme-select"))
    assert choice.first_selected_option.get_attribute("value") == "light"
    choice.select_by_value("dark")
    system(browser, "light")
    WebDriverWait(browser, 5).until(lambda d: background(d) == DARK)

    # Back to the system's: it follows the system again.
    choice.select_by_value("system")
    WebDriverWait(browser, 5).until(lambda d: background(d) == LIGHT)
    assert highlight_media(browser, "dark") == "(prefers-color-scheme: dark)"
    assert browser.execute_script("return localStorage.getItem('sluice.theme')") is None
