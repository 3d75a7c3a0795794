"""Saved prompts (Open WebUI's prompt library) in a real headless Chromium: kept on the Prompts page, offered by / in
the message box (↑ ↓, Enter, Tab, a click, Escape), their {{placeholder}} selected to type over, changed and deleted."""
from selenium.webdriver.common.by import By

from conftest import menu_item
from selenium.webdriver.common.keys import Keys

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as


def keep_prompt(browser, command, title, content):
    page = browser.find_element(By.ID, "prompts-page")
    for selector, value in [(".prompts-command", command), (".prompts-title", title), (".prompts-content", content)]:
        field = page.find_element(By.CSS_SELECTOR, selector)
        field.clear()
        field.send_keys(value)
    page.find_element(By.CSS_SELECTOR, ".prompts-submit").click()


def listed(browser):
    return [li.find_element(By.CSS_SELECTOR, ".prompts-name").text for li in browser.find_elements(By.CSS_SELECTOR, "#prompts-page .prompts-list li")]


def options(browser):
    menu = browser.find_element(By.ID, "slash-menu")
    return [li.text for li in menu.find_elements(By.CSS_SELECTOR, "li")] if menu.is_displayed() else []


def selection(browser):
    return browser.execute_script("const i = document.getElementById('input'); return i.value.slice(i.selectionStart, i.selectionEnd);")


def test_saved_prompts_are_kept_and_typed_with_a_slash(browser, server):
    token = new_user(server, "prompts-ui")
    conversation = api(server, token, "POST", "/api/conversations", {"title": "Notes"})
    open_as(browser, server, token)
    menu_item(browser, "prompts-open").click()
    page = browser.find_element(By.ID, "prompts-page")
    WebDriverWait(browser, 5).until(lambda d: page.is_displayed())
    assert page.find_element(By.CSS_SELECTOR, ".prompts-empty").is_displayed()
    keep_prompt(browser, "/Summarize", "Summarise", "Summarise this in three points:\n\n{{text}}")
    WebDriverWait(browser, 5).until(lambda d: listed(d) == ["/summarize Summarise"])
    keep_prompt(browser, "review", "Review code", "Review this code for bugs.")
    WebDriverWait(browser, 5).until(lambda d: listed(d) == ["/review Review code", "/summarize Summarise"])
    # The same command again: refused, with what to do.
    keep_prompt(browser, "review", "Twice", "x")
    WebDriverWait(browser, 5).until(lambda d: "already have a prompt /review" in d.find_element(By.ID, "banner").text)
    assert len(listed(browser)) == 2
    page.find_element(By.CSS_SELECTOR, ".prompts-close").click()

    box = browser.find_element(By.ID, "input")
    box.clear()
    box.send_keys("/")
    WebDriverWait(browser, 5).until(lambda d: options(d) == ["/review Review code", "/summarize Summarise"])
    assert box.get_attribute("aria-expanded") == "true"
    box.send_keys("su")
    WebDriverWait(browser, 5).until(lambda d: options(d) == ["/summarize Summarise"])
    box.send_keys(Keys.ENTER)
    WebDriverWait(browser, 5).until(lambda d: box.get_attribute("value").startswith("Summarise this"))
    assert not browser.find_element(By.ID, "slash-menu").is_displayed()
    assert selection(browser) == "{{text}}"
    box.send_keys("the quarterly report")
    assert box.get_attribute("value") == "Summarise this in three points:\n\nthe quarterly report"
    # Enter put the prompt in the box; nothing was sent.
    assert api(server, token, "GET", f"/api/conversations/{conversation['id']}")["messages"] == []

    # ↓ then Tab picks the second; Escape closes the list and leaves what was typed; a click picks too.
    box.clear()
    box.send_keys("/")
    WebDriverWait(browser, 5).until(lambda d: len(options(d)) == 2)
    box.send_keys(Keys.ARROW_DOWN, Keys.TAB)
    WebDriverWait(browser, 5).until(lambda d: box.get_attribute("value") == "Summarise this in three points:\n\n{{text}}")
    box.clear()
    box.send_keys("/re")
    WebDriverWait(browser, 5).until(lambda d: options(d) == ["/review Review code"])
    box.send_keys(Keys.ESCAPE)
    WebDriverWait(browser, 5).until(lambda d: not d.find_element(By.ID, "slash-menu").is_displayed())
    assert box.get_attribute("value") == "/re"
    # Typing on opens it again.
    box.send_keys("v")
    WebDriverWait(browser, 5).until(lambda d: options(d) == ["/review Review code"])
    browser.find_element(By.CSS_SELECTOR, "#slash-menu li").click()
    WebDriverWait(browser, 5).until(lambda d: box.get_attribute("value") == "Review this code for bugs.")
    # Then Enter sends it as any message.
    box.send_keys(Keys.ENTER)
    WebDriverWait(browser, 30).until(
        lambda d: [m["content"] for m in api(server, token, "GET", f"/api/conversations/{conversation['id']}")["messages"]][:1]
        == ["Review this code for bugs."])

    # Changed and deleted on the page: the message box offers what is kept now.
    menu_item(browser, "prompts-open").click()
    WebDriverWait(browser, 5).until(lambda d: len(listed(d)) == 2)
    browser.find_element(By.CSS_SELECTOR, "#prompts-page .prompts-list li .prompts-edit").click()
    title = page.find_element(By.CSS_SELECTOR, ".prompts-title")
    assert title.get_attribute("value") == "Review code"
    title.clear()
    title.send_keys("Find bugs")
    page.find_element(By.CSS_SELECTOR, ".prompts-submit").click()
    WebDriverWait(browser, 5).until(lambda d: listed(d) == ["/review Find bugs", "/summarize Summarise"])
    page.find_elements(By.CSS_SELECTOR, ".prompts-list li .prompts-delete")[1].click()
    browser.switch_to.alert.accept()
    WebDriverWait(browser, 5).until(lambda d: listed(d) == ["/review Find bugs"])
    assert [p["command"] for p in api(server, token, "GET", "/api/prompts")["prompts"]] == ["review"]
    page.find_element(By.CSS_SELECTOR, ".prompts-close").click()
    WebDriverWait(browser, 30).until(lambda d: not d.find_element(By.ID, "input").get_attribute("disabled"))
    box.clear()
    box.send_keys("/")
    WebDriverWait(browser, 5).until(lambda d: options(d) == ["/review Find bugs"])


def test_a_saved_prompt_fills_in_the_date_variables(browser, server):
    """Open WebUI's {{CURRENT_DATE}} and {{CURRENT_WEEKDAY}}: filled in with the browser's date; the user's own
    placeholder after them is still the one selected."""
    token = new_user(server, "prompt-variables-ui")
    api(server, token, "POST", "/api/prompts",
        {"command": "standup", "title": "Stand-up", "content": "Stand-up for {{CURRENT_WEEKDAY}} {{CURRENT_DATE}}: {{done}}"})
    api(server, token, "POST", "/api/conversations", {"title": "Notes"})
    open_as(browser, server, token)
    box = browser.find_element(By.ID, "input")
    box.send_keys("/stand")
    WebDriverWait(browser, 5).until(lambda d: options(d) == ["/standup Stand-up"])
    box.send_keys(Keys.ENTER)
    today = browser.execute_script(
        "const now = new Date(); return `${now.toLocaleDateString(undefined, { weekday: 'long' })} ${now.toLocaleDateString()}`;")
    WebDriverWait(browser, 5).until(lambda d: box.get_attribute("value").startswith("Stand-up for "))
    assert box.get_attribute("value") == f"Stand-up for {today}: {{{{done}}}}"
    assert selection(browser) == "{{done}}"


def test_a_saved_prompt_fills_in_the_user_and_the_clipboard_and_tab_steps_through_its_placeholders(browser, server):
    """{{USER_NAME}} is the signed-in user's name, {{USER_LANGUAGE}} the browser's, {{CLIPBOARD}} the clipboard's text
    (the page was allowed to read it); then Tab selects each placeholder of the user's own in turn."""
    token = new_user(server, "prompt-clipboard-ui")
    api(server, token, "POST", "/api/prompts", {
        "command": "reply", "title": "Reply",
        "content": "From {{USER_NAME}} ({{USER_LANGUAGE}}): answer {{CLIPBOARD}} in a {{tone}} tone, {{length}} words."})
    api(server, token, "POST", "/api/conversations", {"title": "Notes"})
    browser.execute_cdp_cmd("Browser.grantPermissions", {
        "origin": server.base, "permissions": ["clipboardReadWrite", "clipboardSanitizedWrite"]})
    open_as(browser, server, token)
    browser.execute_async_script(
        "const done = arguments[arguments.length - 1]; navigator.clipboard.writeText('the mail from Ana').then(done, done);")
    box = browser.find_element(By.ID, "input")
    box.send_keys("/reply")
    WebDriverWait(browser, 5).until(lambda d: options(d) == ["/reply Reply"])
    box.send_keys(Keys.ENTER)
    language = browser.execute_script("return navigator.language")
    WebDriverWait(browser, 5).until(lambda d: box.get_attribute("value").startswith("From "))
    assert box.get_attribute("value") == (
        f"From prompt-clipboard-ui ({language}): answer the mail from Ana in a {{{{tone}}}} tone, {{{{length}}}} words.")
    assert selection(browser) == "{{tone}}"
    box.send_keys("calm", Keys.TAB)
    assert selection(browser) == "{{length}}"
    box.send_keys("fifty", Keys.TAB)
    assert box.get_attribute("value").endswith("in a calm tone, fifty words.")
    # None left: Tab is the page's again, and moves on from the box.
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.active_element != box)


def test_a_clipboard_the_page_may_not_read_is_left_to_type_over(browser, server):
    token = new_user(server, "prompt-no-clipboard-ui")
    api(server, token, "POST", "/api/prompts", {"command": "fix", "title": "Fix", "content": "Fix this: {{CLIPBOARD}}"})
    api(server, token, "POST", "/api/conversations", {"title": "Notes"})
    browser.execute_cdp_cmd("Browser.setPermission", {
        "origin": server.base, "permission": {"name": "clipboard-read"}, "setting": "denied"})
    open_as(browser, server, token)
    box = browser.find_element(By.ID, "input")
    box.send_keys("/fix")
    WebDriverWait(browser, 5).until(lambda d: options(d) == ["/fix Fix"])
    box.send_keys(Keys.ENTER)
    WebDriverWait(browser, 5).until(lambda d: box.get_attribute("value") == "Fix this: {{CLIPBOARD}}")
    assert selection(browser) == "{{CLIPBOARD}}"
    assert "did not let Sluice read the clipboard" in browser.find_element(By.ID, "banner").text


CATCH_DOWNLOADS = """
window.__downloads = [];
HTMLAnchorElement.prototype.click = function () {
  if (this.download) fetch(this.href).then((r) => r.text()).then((text) => window.__downloads.push([this.download, text]));
};"""


def test_prompts_exported_as_a_file_are_imported_by_another_account_and_open_webuis_prompts_too(browser, server, tmp_path):
    """Export writes every prompt in Open WebUI's shape; Import reads such a file into another account (as /commands
    it can type), keeps a prompt the account has already, names the ones the server refuses, and says what a file
    without prompts is."""
    import json
    token = new_user(server, "prompts-export-ui")
    api(server, token, "POST", "/api/prompts", {"command": "summarize", "title": "Summarise", "content": "Three points:\n\n{{text}}"})
    api(server, token, "POST", "/api/prompts", {"command": "review", "title": "Review code", "content": "Review this code."})
    open_as(browser, server, token)
    menu_item(browser, "prompts-open").click()
    page = browser.find_element(By.ID, "prompts-page")
    WebDriverWait(browser, 5).until(lambda d: len(listed(d)) == 2)
    browser.execute_script(CATCH_DOWNLOADS)
    page.find_element(By.CSS_SELECTOR, ".prompts-export").click()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return window.__downloads.length") == 1)
    name, text = browser.execute_script("return window.__downloads[0]")
    assert name.startswith("sluice-prompts-") and name.endswith(".json")
    assert json.loads(text) == [
        {"command": "/review", "title": "Review code", "content": "Review this code."},
        {"command": "/summarize", "title": "Summarise", "content": "Three points:\n\n{{text}}"},
    ]
    WebDriverWait(browser, 5).until(lambda d: "2 prompts exported" in d.find_element(By.ID, "banner").text)

    # Another account, which has a /review of its own, imports the file and an Open WebUI export (extra fields).
    other = new_user(server, "prompts-import-ui")
    api(server, other, "POST", "/api/prompts", {"command": "review", "title": "My review", "content": "Mine."})
    exported = tmp_path / name
    exported.write_text(text)
    open_webui = tmp_path / "prompts-export-1733500000.json"
    open_webui.write_text(json.dumps([
        {"command": "/translate", "user_id": "u1", "title": "Translate", "content": "Translate into {{language}}:", "timestamp": 1733500000},
        {"command": "/bad command", "title": "Bad", "content": "x"},
    ]))
    browser.get("about:blank")
    open_as(browser, server, other)
    menu_item(browser, "prompts-open").click()
    page = browser.find_element(By.ID, "prompts-page")
    WebDriverWait(browser, 5).until(lambda d: listed(d) == ["/review My review"])
    picker = page.find_element(By.CSS_SELECTOR, ".prompts-import-file")
    picker.send_keys(str(exported))
    WebDriverWait(browser, 10).until(lambda d: "1 prompt imported." in d.find_element(By.ID, "banner").text)
    assert "/review (you have a prompt with that command already)" in browser.find_element(By.ID, "banner").text
    assert listed(browser) == ["/review My review", "/summarize Summarise"]
    picker.send_keys(str(open_webui))
    WebDriverWait(browser, 10).until(lambda d: "1 prompt imported." in d.find_element(By.ID, "banner").text
                                     and "Not imported: /bad command" in d.find_element(By.ID, "banner").text)
    assert listed(browser) == ["/review My review", "/summarize Summarise", "/translate Translate"]
    mine = {p["command"]: p["content"] for p in api(server, other, "GET", "/api/prompts")["prompts"]}
    assert mine == {"review": "Mine.", "summarize": "Three points:\n\n{{text}}", "translate": "Translate into {{language}}:"}
    # Imported, it is a /command of the message box at once.
    page.find_element(By.CSS_SELECTOR, ".prompts-close").click()
    box = browser.find_element(By.ID, "input")
    box.send_keys("/tr")
    WebDriverWait(browser, 5).until(lambda d: options(d) == ["/translate Translate"])
    box.send_keys(Keys.ESCAPE)

    notes = tmp_path / "notes.json"
    notes.write_text('{"title": "not prompts"}')
    menu_item(browser, "prompts-open").click()
    page.find_element(By.CSS_SELECTOR, ".prompts-import-file").send_keys(str(notes))
    WebDriverWait(browser, 10).until(lambda d: "notes.json holds no prompts" in d.find_element(By.ID, "banner").text)
