"""Sharing a conversation by link, in a real Chromium: the header's Share makes a link; the link's page shows the copy
read-only to anyone, with the model's Markdown sanitised; Update link refreshes the copy; Stop sharing ends it."""
from selenium.webdriver.common.by import By

from conftest import menu_item

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as, send_message


def share_panel(browser):
    menu = browser.find_element(By.ID, "share-menu")
    if not menu.get_attribute("open"):
        menu.find_element(By.TAG_NAME, "summary").click()
    return menu.find_element(By.CSS_SELECTOR, ".share-panel")


def panel_button(browser, selector):
    """The Share panel's button `selector`, once the panel is drawn: <details> fires `toggle`, which draws it, in a task
    after the click, so right after the click the panel may still be empty (seen once in CI under load)."""
    WebDriverWait(browser, 10).until(lambda d: share_panel(d).find_elements(By.CSS_SELECTOR, selector))
    return share_panel(browser).find_element(By.CSS_SELECTOR, selector)


def until_shown_as_shared(browser):
    """Waits until the page has shown the opened conversation's share state (`ShareMenu.show`, after the conversation is
    read): the sidebar marks a conversation open before that, and a panel opened in between is drawn for no link."""
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "#share-menu summary").text == "Shared")


def shared_messages(browser):
    return browser.find_elements(By.CSS_SELECTOR, "#messages .message")


def test_share_a_conversation_read_the_copy_update_it_and_stop_sharing(browser, server):
    token = new_user(server, "share-ui")
    # The simulator's `sim-markdown` answers with Markdown and HTML tricks that must stay inert.
    conversation = api(server, token, "POST", "/api/conversations", {"model": "sim-markdown"})
    send_message(server, token, conversation["id"], "Plan a trip to Lisbon")
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "share-menu").is_displayed())
    assert browser.find_element(By.CSS_SELECTOR, "#share-menu summary").text == "Share"

    panel_button(browser, ".share-create").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#share-menu .share-link"))
    link = browser.find_element(By.CSS_SELECTOR, "#share-menu .share-link").get_attribute("value")
    shared = api(server, token, "GET", f"/api/conversations/{conversation['id']}")["shared"]
    assert link == server.base + shared["url"]
    assert browser.find_element(By.CSS_SELECTOR, "#share-menu summary").text == "Shared"

    # The link's page, signed out: the copy, with the answer's Markdown rendered and its tricks inert.
    browser.execute_script("localStorage.clear()")
    browser.get(link)
    WebDriverWait(browser, 10).until(lambda d: len(shared_messages(d)) == 2)
    assert browser.find_element(By.ID, "shared-title").text == "Plan a trip to Lisbon"
    assert browser.title == "Plan a trip to Lisbon · Sluice"
    question, answer = shared_messages(browser)
    assert question.find_element(By.CSS_SELECTOR, ".text").text == "Plan a trip to Lisbon"
    assert answer.find_elements(By.CSS_SELECTOR, ".text table") and answer.find_elements(By.CSS_SELECTOR, ".text pre code")
    assert "sim-markdown" in answer.find_element(By.CSS_SELECTOR, ".meta").text
    # Nothing the model wrote runs: no script, no event handler, no javascript: link; raw HTML shows as text.
    assert not answer.find_elements(By.CSS_SELECTOR, "script, img, [onerror]")
    assert '<img src=x onerror="window.__xss=1">' in answer.text
    links = answer.find_elements(By.TAG_NAME, "a")
    assert links and all(a.get_attribute("rel") == "noopener noreferrer" for a in links)
    assert all(not (a.get_attribute("href") or "").lower().startswith("javascript") for a in links)
    for a in links:
        if a.get_attribute("href") != "https://example.com/guide":
            a.click()
    assert browser.execute_script("return window.__xss") is None

    # A later message is in the copy only once the owner updates the link (the same link).
    send_message(server, token, conversation["id"], "And Porto?")
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: len(shared_messages(d)) == 2)
    open_as(browser, server, token)
    until_shown_as_shared(browser)
    panel_button(browser, ".share-update").click()
    WebDriverWait(browser, 10).until(
        lambda d: api(server, token, "GET", f"/api/conversations/{conversation['id']}")["shared"]["shared_at"] != shared["shared_at"])
    browser.get(link)
    WebDriverWait(browser, 10).until(lambda d: len(shared_messages(d)) == 4)

    # Stop sharing: the link's page says it is gone.
    open_as(browser, server, token)
    until_shown_as_shared(browser)
    panel_button(browser, ".share-stop").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#share-menu .share-create"))
    assert "shared" not in api(server, token, "GET", f"/api/conversations/{conversation['id']}")
    browser.get(link)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "shared-title").text == "Not found")
    assert "stopped sharing" in browser.find_element(By.ID, "shared-note").text
    assert not shared_messages(browser)


def test_a_temporary_chat_offers_no_share(browser, server):
    token = new_user(server, "share-temporary")
    open_as(browser, server, token)
    browser.find_element(By.ID, "temporary-toggle").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "temporary-notice").is_displayed())
    assert not browser.find_element(By.ID, "share-menu").is_displayed()


def test_the_shared_links_page_lists_them_and_stops_one(browser, server):
    token = new_user(server, "share-list")
    ids = []
    for question in ["Lisbon", "Porto"]:
        conversation = api(server, token, "POST", "/api/conversations", {})
        send_message(server, token, conversation["id"], question)
        api(server, token, "POST", f"/api/conversations/{conversation['id']}/share")
        ids.append(conversation["id"])
    open_as(browser, server, token)
    menu_item(browser, "shares-open").click()
    page = browser.find_element(By.ID, "shares-page")
    WebDriverWait(browser, 10).until(lambda d: len(page.find_elements(By.CSS_SELECTOR, ".shares-list li")) == 2)
    assert [a.text for a in page.find_elements(By.CSS_SELECTOR, ".shares-title")] == ["Porto", "Lisbon"]
    first = page.find_element(By.CSS_SELECTOR, ".shares-title")
    assert first.get_attribute("href") == server.base + api(server, token, "GET", f"/api/conversations/{ids[1]}")["shared"]["url"]
    assert not page.find_element(By.CSS_SELECTOR, ".shares-empty").is_displayed()
    # Stopped from the list: gone from it, and the open conversation's Share menu says Share again.
    page.find_element(By.CSS_SELECTOR, f'li[data-conversation-id="{ids[1]}"] .shares-stop').click()
    WebDriverWait(browser, 10).until(lambda d: [a.text for a in page.find_elements(By.CSS_SELECTOR, ".shares-title")] == ["Lisbon"])
    assert "shared" not in api(server, token, "GET", f"/api/conversations/{ids[1]}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "#share-menu summary").text == "Share")


def test_a_signed_in_reader_continues_a_shared_conversation_as_their_own(browser, server):
    owner = new_user(server, "share-owner")
    conversation = api(server, owner, "POST", "/api/conversations", {})
    send_message(server, owner, conversation["id"], "Plan a trip to Lisbon")
    link = server.base + api(server, owner, "POST", f"/api/conversations/{conversation['id']}/share")["url"]
    # Signed out, the page offers no Continue.
    browser.get(link)
    WebDriverWait(browser, 10).until(lambda d: len(shared_messages(d)) == 2)
    assert not browser.find_element(By.ID, "shared-continue").is_displayed()

    reader = new_user(server, "share-reader")
    api(server, reader, "POST", "/api/conversations", {"title": "Reader's own"})
    open_as(browser, server, reader)
    browser.get(link)
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "shared-continue").is_displayed())
    browser.find_element(By.ID, "shared-continue").click()
    # The web app opens the reader's copy, with the thread.
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#messages .message")) == 2)
    mine = api(server, reader, "GET", "/api/conversations")["conversations"]
    assert [c["title"] for c in mine] == ["Plan a trip to Lisbon", "Reader's own"]
    # The sidebar marks it once its list is read again, after the thread is shown.
    current = '#conversation-list .conversation-open[aria-current="true"]'
    WebDriverWait(browser, 10).until(lambda d: [e.text for e in d.find_elements(By.CSS_SELECTOR, current)] == ["Plan a trip to Lisbon"])
    assert browser.find_element(By.CSS_SELECTOR, ".message.user .text").text == "Plan a trip to Lisbon"
    assert len(api(server, owner, "GET", f"/api/conversations/{conversation['id']}")["messages"]) == 2
