"""This browser's preferences in a real headless Chromium: the theme — the system's by default (light or dark, as it
changes), or light or dark chosen in Personalize, at once, kept across reloads, highlight.js's colours following it —
and the notification of an answer that ended out of sight."""
from selenium.webdriver.common.by import By

from conftest import menu_item
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import new_user, open_as
from test_usage_ui import wait_for_answer_end

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

    menu_item(browser, "personalize-open").click()
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
    menu_item(browser, "personalize-open").click()
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


def test_an_answer_that_ends_out_of_sight_is_notified_once_asked_for(browser, server):
    """Personalize's "Notify me" (the browser allowing it): an answer that ends while the page is hidden shows a
    notification with the answer's first line; one that ends in sight does not."""
    token = new_user(server, "notify-ui")
    browser.execute_cdp_cmd("Browser.grantPermissions", {"origin": server.base, "permissions": ["notifications"]})
    open_as(browser, server, token)
    # The page's notifications are recorded (and still shown); the page is told it is hidden when the test says so.
    browser.execute_script("""
        window.__shown = [];
        const Real = Notification;
        window.Notification = class extends Real {
          constructor(title, options) { super(title, options); window.__shown.push([title, options.body]); }
        };
        window.__hidden = false;
        Object.defineProperty(document, "hidden", { configurable: true, get: () => window.__hidden });""")
    menu_item(browser, "personalize-open").click()
    box = browser.find_element(By.ID, "notify-answers")
    assert box.is_displayed() and not box.is_selected()
    box.click()
    WebDriverWait(browser, 5).until(lambda d: d.execute_script("return localStorage.getItem('sluice.notify')") == "on")
    browser.find_element(By.CSS_SELECTOR, "#personal-instructions .instructions-cancel").click()

    message = browser.find_element(By.ID, "input")
    message.send_keys("Tell me while I am away", Keys.ENTER)
    browser.execute_script("window.__hidden = true")
    WebDriverWait(browser, 30).until(lambda d: d.execute_script("return window.__shown.length") == 1)
    title, body = browser.execute_script("return window.__shown[0]")
    answer = browser.find_element(By.CSS_SELECTOR, ".message.assistant .text").text
    assert body and answer.startswith(body.rstrip("…")), (body, answer)
    assert title

    browser.execute_script("window.__hidden = false")
    wait_for_answer_end(browser)
    message.send_keys("And while I watch", Keys.ENTER)
    wait_for_answer_end(browser)
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.assistant")) == 2)
    assert browser.execute_script("return window.__shown.length") == 1
