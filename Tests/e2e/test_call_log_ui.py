"""The usage page's Calls in a real headless Chromium: each web answer and gateway call (the latter from the official
`openai` SDK, tagged and naming an end user), newest first, narrowed by tag and outcome, a call's conversation opened
from it; and the same calls from `sluice usage calls`."""
import subprocess

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select

from conftest import SLUICE, menu_item
from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as
from test_gateway import client
from test_usage_ui import wait_for_answer_end


def rows(browser):
    return browser.find_elements(By.CSS_SELECTOR, "#usage-page .calls-table tbody tr")


def test_calls_are_listed_one_by_one_narrowed_and_open_their_conversation(browser, server):
    token = new_user(server, "calls-ui")
    open_as(browser, server, token)
    browser.find_element(By.ID, "input").send_keys("hello there", Keys.ENTER)
    wait_for_answer_end(browser)
    asked = api(server, token, "GET", "/api/conversations")["conversations"][0]["id"]

    sdk = client(server, token)
    ask = [{"role": "user", "content": "a gateway call"}]
    sdk.chat.completions.create(model="sim", messages=ask, user="shop-1", max_tokens=8,
                                extra_headers={"x-sluice-tags": "nightly,<b>bold</b>"})
    sdk.chat.completions.create(model="sim", messages=ask, max_tokens=8, extra_headers={"x-sluice-tags": "nightly"})

    # Away from the conversation, so that opening it from its call is seen.
    browser.find_element(By.ID, "new-conversation").click()
    WebDriverWait(browser, 10).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#messages .message"))
    menu_item(browser, "usage-open").click()
    WebDriverWait(browser, 15).until(lambda d: len(rows(d)) == 3)
    listed = rows(browser)
    assert all(row.get_attribute("data-outcome") == "complete" for row in listed)
    newest, _, web = [row.find_elements(By.TAG_NAME, "td") for row in listed]
    # When, model, tokens in → out, cost, speed, outcome, about.
    assert newest[1].text == "sim" and " → 8" in newest[2].text and newest[3].text.startswith("$")
    # Cut at its `max_tokens`, as the upstream said.
    assert newest[5].text == "Complete (cut at its token limit)" and "tags nightly" in newest[6].text
    # A tag is text: no element was made of it; the end user and tags of the first gateway call.
    second = listed[1].find_elements(By.TAG_NAME, "td")[6].text
    assert "end user shop-1" in second and "<b>bold</b>" in second
    assert not listed[1].find_elements(By.CSS_SELECTOR, "td b")
    # The web answer: its first token's time and speed, and its conversation to open.
    assert web[4].text.startswith("first token ") and "tokens/s" in web[4].text
    assert web[6].find_elements(By.CSS_SELECTOR, "button.calls-open")

    # The model's speed over those answers, beside its usage.
    model_line = browser.find_element(By.CSS_SELECTOR, "#usage-page .usage-models li").text
    assert model_line.startswith("sim: ") and " · first token " in model_line and "(95 %: " in model_line and "tokens/s" in model_line

    # Narrowed by tag, then by an outcome none has.
    Select(browser.find_element(By.CSS_SELECTOR, "#usage-page .calls-tag")).select_by_value("nightly")
    WebDriverWait(browser, 10).until(lambda d: len(rows(d)) == 2)
    Select(browser.find_element(By.CSS_SELECTOR, "#usage-page .calls-outcome")).select_by_value("failed")
    WebDriverWait(browser, 10).until(lambda d: not rows(d))
    assert browser.find_element(By.CSS_SELECTOR, "#usage-page .calls-empty").is_displayed()
    Select(browser.find_element(By.CSS_SELECTOR, "#usage-page .calls-outcome")).select_by_value("")
    Select(browser.find_element(By.CSS_SELECTOR, "#usage-page .calls-tag")).select_by_value("")
    WebDriverWait(browser, 10).until(lambda d: len(rows(d)) == 3)

    rows(browser)[2].find_element(By.CSS_SELECTOR, "button.calls-open").click()
    WebDriverWait(browser, 10).until(lambda d: not d.find_element(By.ID, "usage-page").is_displayed())
    WebDriverWait(browser, 10).until(
        lambda d: "hello there" in d.find_element(By.ID, "messages").text
        and d.find_elements(By.CSS_SELECTOR, f'#conversation-list [data-id="{asked}"] [aria-current="true"]'))

    # An administrator's Everyone's: whose each call was, narrowed to one user; another's conversation is not offered.
    browser.get("about:blank")  # a new page load: a change of the address's #token alone would not sign in again
    open_as(browser, server, server.token)
    menu_item(browser, "usage-open").click()
    scope = browser.find_element(By.CSS_SELECTOR, "#usage-page .usage-scope")
    WebDriverWait(browser, 15).until(lambda d: scope.is_displayed())
    Select(scope).select_by_value("all")
    users = browser.find_element(By.CSS_SELECTOR, "#usage-page .calls-user")
    WebDriverWait(browser, 15).until(lambda d: users.is_displayed() and users.find_elements(By.CSS_SELECTOR, 'option[value="calls-ui"]'))
    Select(users).select_by_value("calls-ui")
    WebDriverWait(browser, 15).until(
        lambda d: len(rows(d)) == 3
        and all(row.find_element(By.CSS_SELECTOR, "td.calls-who").text == "calls-ui" for row in rows(d)))
    assert not browser.find_elements(By.CSS_SELECTOR, "#usage-page .calls-table button.calls-open")

    printed = subprocess.run([SLUICE, "usage", "calls", "--user", "calls-ui", "--db", server.db],
                             check=True, capture_output=True, text=True).stdout.splitlines()
    assert printed[0].split("\t")[:4] == ["at", "user", "model", "outcome"]
    lines = [line.split("\t") for line in printed[1:]]
    assert len(lines) == 3 and all(line[1] == "calls-ui" and line[3] == "complete" for line in lines)
    assert lines[1][10] == "shop-1" and lines[1][11] == "nightly,<b>bold</b>"
    tagged = subprocess.run([SLUICE, "usage", "calls", "--tag", "nightly", "--db", server.db],
                            check=True, capture_output=True, text=True).stdout.splitlines()
    # Everyone's calls with the tag (other tests share the server): this user's two among them, none untagged.
    assert [line.split("\t")[1] for line in tagged[1:]].count("calls-ui") == 2
    assert all("nightly" in line.split("\t")[11].split(",") for line in tagged[1:])
