"""Renaming and deleting conversations from the sidebar, and a conversation's instructions, in a real Chromium."""
import json
import subprocess
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import SLUICE, conversation_action, menu_item
from test_chat_ui import WebDriverWait
from test_usage_ui import wait_for_answer_end


def new_user(server, name):
    """A user of its own, so that the sidebar holds only this test's conversations."""
    added = subprocess.run([SLUICE, "user", "add", name, "--plan", "unlimited", "--db", server.db], check=True,
                           capture_output=True, text=True)
    return added.stdout.strip().splitlines()[-1]


def api(server, token, method, path, body=None):
    request = urllib.request.Request(
        server.base + path, method=method, data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read() or b"null")


def export(browser, data_format):
    """Clicks Export → `data_format` and returns the file the page offered: (name, text). The page's download link is
    caught, not followed, so nothing is written to disk."""
    browser.execute_script("""
        window.__downloads = window.__downloads ?? [];
        HTMLAnchorElement.prototype.click = function () {
          if (this.download) fetch(this.href).then((r) => r.text()).then((text) => window.__downloads.push([this.download, text]));
        };
    """)
    count = browser.execute_script("return window.__downloads.length")
    menu = browser.find_element(By.ID, "export-menu")
    menu.find_element(By.TAG_NAME, "summary").click()
    menu.find_element(By.CSS_SELECTOR, f"button[data-format={data_format}]").click()
    WebDriverWait(browser, 10).until(lambda d: d.execute_script("return window.__downloads.length") == count + 1)
    return browser.execute_script(f"return window.__downloads[{count}]")


def titles(browser):
    return [item.text for item in browser.find_elements(By.CSS_SELECTOR, "#conversation-list .conversation-open")]


def open_as(browser, server, token):
    """Opens the page as the user and waits until it has opened the newest conversation (if there is one)."""
    browser.get(f"{server.base}/#token={token}")
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "input").is_displayed())
    WebDriverWait(browser, 10).until(
        lambda d: not api(server, token, "GET", "/api/conversations")["conversations"]
        or d.find_elements(By.CSS_SELECTOR, '#conversation-list .conversation-open[aria-current="true"]'))
    # The page focuses the message box once a conversation is open: then nothing else takes the focus.
    WebDriverWait(browser, 10).until(lambda d: d.switch_to.active_element == d.find_element(By.ID, "input"))


def test_rename_in_place_enter_saves_and_escape_keeps_the_old_name(browser, server):
    token = new_user(server, "rename-ui")
    conversation = api(server, token, "POST", "/api/conversations", {"title": "Old name"})
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Old name"])

    act_on(browser, conversation["id"], "rename")
    field = browser.find_element(By.CSS_SELECTOR, "#conversation-list .rename-field")
    assert field.get_attribute("value") == "Old name"
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("Trip to Lisbon", Keys.ENTER)
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Trip to Lisbon"])
    assert api(server, token, "GET", f"/api/conversations/{conversation['id']}")["title"] == "Trip to Lisbon"

    act_on(browser, conversation["id"], "rename")
    field = browser.find_element(By.CSS_SELECTOR, "#conversation-list .rename-field")
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys("Thrown away", Keys.ESCAPE)
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Trip to Lisbon"])
    assert api(server, token, "GET", f"/api/conversations/{conversation['id']}")["title"] == "Trip to Lisbon"


def test_a_conversations_actions_are_in_its_menu_which_leaves_the_title_the_width_of_the_list(browser, server):
    """ChatGPT's "⋯" beside a conversation: one button where five stood, so a title reads across the sidebar; its
    menu opens from the mouse or the keyboard, names what each choice does, and closes with Escape."""
    token = new_user(server, "conversation-menu-ui")
    conversation = api(server, token, "POST", "/api/conversations", {"title": "A rather long name for a conversation about trains"})
    open_as(browser, server, token)
    item = browser.find_element(By.CSS_SELECTOR, f'#conversation-list li[data-id="{conversation["id"]}"]')
    widths = browser.execute_script(
        "const li = arguments[0]; return [li.getBoundingClientRect().width, li.querySelector('.conversation-open').getBoundingClientRect().width]", item)
    assert widths[1] >= 0.8 * widths[0], widths
    more = item.find_element(By.CSS_SELECTOR, ".conversation-more")
    assert more.get_attribute("aria-haspopup") == "menu" and "A rather long name" in more.get_attribute("aria-label")
    browser.execute_script("arguments[0].focus()", more)
    more.send_keys(Keys.ENTER)
    menu = WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, ".popup-menu"))
    assert more.get_attribute("aria-expanded") == "true"
    assert [e.text for e in menu.find_elements(By.CSS_SELECTOR, "[role=menuitem]")] == ["Pin", "Rename", "Archive", "Delete"]
    assert browser.switch_to.active_element.text == "Pin"
    browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    assert browser.switch_to.active_element.text == "Rename"
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    WebDriverWait(browser, 5).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".popup-menu"))
    assert browser.switch_to.active_element == more and more.get_attribute("aria-expanded") == "false"
    # A second click on the button closes what the first opened; a click elsewhere closes it too.
    more.click()
    WebDriverWait(browser, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".popup-menu"))
    more.click()
    WebDriverWait(browser, 5).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".popup-menu"))
    more.click()
    WebDriverWait(browser, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".popup-menu"))
    browser.find_element(By.ID, "messages").click()
    WebDriverWait(browser, 5).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".popup-menu"))
    # Pinned from the menu, which then offers to unpin.
    act_on(browser, conversation["id"], "pin")
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#conversation-list li.pinned"))
    assert api(server, token, "GET", f"/api/conversations/{conversation['id']}").get("pinned_at")
    item = browser.find_element(By.CSS_SELECTOR, f'#conversation-list li[data-id="{conversation["id"]}"]')
    item.find_element(By.CSS_SELECTOR, ".conversation-more").click()
    assert WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, ".popup-menu .conversation-pin")).text == "Unpin"
    # The list drawn anew while the menu is open (as when an answer ends): the menu goes with the button it hung from.
    browser.execute_script("const list = document.getElementById('conversation-list'); list.replaceChildren(...list.children)")
    assert browser.find_elements(By.CSS_SELECTOR, ".popup-menu")
    browser.execute_script("const list = document.getElementById('conversation-list'); list.replaceChildren()")
    WebDriverWait(browser, 5).until(lambda d: not d.find_elements(By.CSS_SELECTOR, ".popup-menu"))


def test_delete_asks_first_then_removes_the_conversation_and_opens_the_next(browser, server):
    token = new_user(server, "delete-ui")
    kept = api(server, token, "POST", "/api/conversations", {"title": "Keep me"})
    doomed = api(server, token, "POST", "/api/conversations", {"title": "Delete me"})
    open_as(browser, server, token)
    # The newest is open, and its actions are shown.
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Delete me", "Keep me"])

    act_on(browser, doomed["id"], "delete")
    alert = WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert)
    assert "Delete me" in alert.text and "cannot be undone" in alert.text
    alert.dismiss()
    assert titles(browser) == ["Delete me", "Keep me"]

    act_on(browser, doomed["id"], "delete")
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert).accept()
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Keep me"])
    assert [c["id"] for c in api(server, token, "GET", "/api/conversations")["conversations"]] == [kept["id"]]
    WebDriverWait(browser, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#conversation-list .conversation-open").get_attribute("aria-current") == "true")


def test_instructions_are_saved_shown_and_sent_with_the_next_message(browser, server):
    token = new_user(server, "instructions-ui")
    open_as(browser, server, token)
    toggle = browser.find_element(By.ID, "instructions-toggle")
    assert toggle.text == "Instructions"
    # Folded away until asked for (the form's own `display` once kept it open for good).
    assert not browser.find_element(By.ID, "instructions").is_displayed()
    toggle.click()
    assert browser.find_element(By.ID, "instructions").is_displayed()
    text = browser.find_element(By.ID, "instructions-text")
    text.send_keys("Answer in Portuguese, in one short sentence.")
    browser.find_element(By.CSS_SELECTOR, "#instructions button[type=submit]").click()
    WebDriverWait(browser, 10).until(
        lambda d: "Saved" in d.find_element(By.CSS_SELECTOR, ".instructions-status").text)
    assert toggle.text == "Instructions (set)"
    # Saving made the conversation (none was open) and gave it the instructions.
    conversations = api(server, token, "GET", "/api/conversations")["conversations"]
    assert len(conversations) == 1 and conversations[0]["system_prompt"] == "Answer in Portuguese, in one short sentence."

    # The estimate counts them as the system part of what the next message sends.
    box = browser.find_element(By.ID, "input")
    box.send_keys("hello")
    WebDriverWait(browser, 10).until(lambda d: "system" in d.find_element(By.ID, "estimate").text)
    box.send_keys(Keys.ENTER)
    wait_for_answer_end(browser)

    # After a reload the panel shows them again; clearing them removes them.
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "instructions-toggle").text == "Instructions (set)")
    browser.find_element(By.ID, "instructions-toggle").click()
    text = browser.find_element(By.ID, "instructions-text")
    assert text.get_attribute("value") == "Answer in Portuguese, in one short sentence."
    text.clear()
    browser.find_element(By.CSS_SELECTOR, "#instructions button[type=submit]").click()
    WebDriverWait(browser, 10).until(lambda d: d.find_element(By.ID, "instructions-toggle").text == "Instructions")
    assert api(server, token, "GET", "/api/conversations")["conversations"][0].get("system_prompt") is None


def test_export_all_downloads_every_conversation_in_one_file_that_import_reads_back(browser, server):
    """ChatGPT's "Export data": every conversation, archived ones too, each with its messages and images, in one file
    that Sluice's import makes into the same conversations (here, another user's)."""
    token = new_user(server, "export-all-ui")
    photo = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAFUlEQVR4nGM8IWfDwMDAwMDAxAADABUsASY0+3CFAAAAAElFTkSuQmCC"
    made = []
    for title in ["Lisbon", "Porto", "Old plans"]:
        conversation = api(server, token, "POST", "/api/conversations", {"title": title})
        send_message(server, token, conversation["id"], f"About {title}?", images=[{"url": photo}] if title == "Porto" else None)
        made.append(conversation["id"])
    api(server, token, "PATCH", f"/api/conversations/{made[2]}", {"archived": True})
    open_as(browser, server, token)
    browser.execute_script("""
        window.__downloads = [];
        HTMLAnchorElement.prototype.click = function () {
          if (this.download) fetch(this.href).then((r) => r.text()).then((text) => window.__downloads.push([this.download, text]));
        };""")
    menu_item(browser, "export-all").click()
    WebDriverWait(browser, 20).until(lambda d: d.execute_script("return window.__downloads.length") == 1)
    name, text = browser.execute_script("return window.__downloads[0]")
    assert name.startswith("sluice-conversations-") and name.endswith(".json")
    WebDriverWait(browser, 5).until(lambda d: "3 conversations exported" in d.find_element(By.ID, "banner").text)
    exported = json.loads(text)
    assert sorted(c["title"] for c in exported) == ["Lisbon", "Old plans", "Porto"]
    assert all(len(c["messages"]) == 2 for c in exported)
    porto = next(c for c in exported if c["title"] == "Porto")
    assert porto["messages"][0]["images"][0]["url"] == photo, "the image's bytes, not this server's address"

    other = new_user(server, "export-all-import")
    request = urllib.request.Request(
        f"{server.base}/api/conversations/import", method="POST", data=text.encode(),
        headers={"Authorization": f"Bearer {other}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert json.loads(response.read())["messages"] == 6
    imported = api(server, other, "GET", "/api/conversations")["conversations"]
    assert sorted(c["title"] for c in imported) == ["Lisbon", "Old plans", "Porto"]


def send_message(server, token, conversation, content, attachments=None, images=None):
    """One turn through the API, read to its end."""
    request = urllib.request.Request(
        f"{server.base}/api/conversations/{conversation}/messages", method="POST",
        data=json.dumps({"content": content, **({"attachments": attachments} if attachments else {}),
                         **({"images": images} if images else {})}).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as response:
        assert b"event: done" in response.read()


def test_search_shows_the_conversations_with_the_words_and_a_snippet_and_escape_clears_it(browser, server):
    token = new_user(server, "search-ui")
    trip = api(server, token, "POST", "/api/conversations", {"title": "Trip"})
    send_message(server, token, trip["id"], "Which pastry shop is near the Belem tower?")
    api(server, token, "POST", "/api/conversations", {"title": "Belem photos"})
    api(server, token, "POST", "/api/conversations", {"title": "Groceries"})
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: len(titles(d)) == 3)

    box = browser.find_element(By.ID, "conversation-search")
    box.send_keys("belem")
    WebDriverWait(browser, 10).until(lambda d: len(titles(d)) == 2)
    items = {item.find_element(By.CSS_SELECTOR, ".conversation-open").text.split("\n")[0]: item
             for item in browser.find_elements(By.CSS_SELECTOR, "#conversation-list li")}
    assert set(items) == {"Trip", "Belem photos"}
    # (textContent: the snippet is clamped to two lines, and a narrower list — a scroll bar — may hide its end from .text)
    snippet = items["Trip"].find_element(By.CSS_SELECTOR, ".snippet")
    assert snippet.get_attribute("textContent") == "Which pastry shop is near the Belem tower?"
    assert not items["Belem photos"].find_elements(By.CSS_SELECTOR, ".snippet")
    # The words are marked where they were found, in the title and the snippet.
    assert [m.text for m in items["Belem photos"].find_elements(By.CSS_SELECTOR, "mark")] == ["Belem"]

    # Every word, in any order, each anywhere in the conversation (the title says "Trip", a message the rest).
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("tower trip pastry")
    WebDriverWait(browser, 10).until(lambda d: [title.split("\n")[0] for title in titles(d)] == ["Trip"])
    snippet = browser.find_element(By.CSS_SELECTOR, "#conversation-list li .snippet")
    # (textContent: the snippet is clamped to two lines, which may hide the end of it from .text)
    assert [m.get_attribute("textContent") for m in snippet.find_elements(By.CSS_SELECTOR, "mark")] == ["pastry", "tower"]
    assert [m.text for m in browser.find_elements(By.CSS_SELECTOR, "#conversation-list li .conversation-title > mark")] == ["Trip"]

    box.send_keys(" kyoto")
    WebDriverWait(browser, 10).until(lambda d: "No conversation has “tower” and “trip” and “pastry” and “kyoto”."
                                     in d.find_element(By.ID, "conversation-list").text)
    box.send_keys(Keys.ESCAPE)
    WebDriverWait(browser, 10).until(lambda d: len(titles(d)) == 3)
    assert box.get_attribute("value") == ""


def test_export_downloads_the_conversation_as_markdown_and_as_json(browser, server):
    token = new_user(server, "export-ui")
    conversation = api(server, token, "POST", "/api/conversations", {"title": "Trip: Lisbon / Porto", "system_prompt": "Be brief."})
    menu = "Pastel de nata\n```\nnot a fence end\n```"
    photo = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAFUlEQVR4nGM8IWfDwMDAwMDAxAADABUsASY0+3CFAAAAAElFTkSuQmCC"
    send_message(server, token, conversation["id"], "Which pastry should I try?", [{"name": "menu.md", "text": menu}],
                 [{"url": photo}])
    stored = api(server, token, "GET", f"/api/conversations/{conversation['id']}")
    open_as(browser, server, token)
    name, text = export(browser, "markdown")
    assert name == "trip-lisbon-porto.md"
    answer = stored["messages"][1]
    assert text.startswith("# Trip: Lisbon / Porto\n\nModel: sim · exported ")
    assert "> **Instructions:** Be brief." in text
    assert f"**You** · {stored['messages'][0]['created_at']}\n\nWhich pastry should I try?\n" in text
    # The question's file, in a fence longer than any run of backticks in it.
    assert f"Attached `menu.md`:\n\n````\n{menu}\n````\n" in text
    # The question's image, as a Markdown image that shows it.
    assert f"![Image 1 (3 × 2)]({photo})\n" in text
    assert f"**sim** · {answer['created_at']}\n\n{answer['content']}\n" in text

    name, text = export(browser, "json")
    assert name == "trip-lisbon-porto.json"
    exported = json.loads(text)
    assert [m["content"] for m in exported["messages"]] == [m["content"] for m in stored["messages"]]
    assert exported["messages"][0]["attachments"] == [{"name": "menu.md", "text": menu}]
    assert [image["url"] for image in exported["messages"][0]["images"]] == [photo]
    assert exported["system_prompt"] == "Be brief."


def edit_question(browser, index, words):
    """Edits the question at `index` of the thread to `words` in the page and waits for the new answer to end; returns
    the words the edit form offered first."""
    browser.find_elements(By.CSS_SELECTOR, ".message.user")[index].find_element(By.CSS_SELECTOR, ".edit").click()
    field = browser.find_element(By.CSS_SELECTOR, ".edit-form textarea")
    offered = field.get_attribute("value")
    field.clear()
    field.send_keys(words)
    browser.find_element(By.CSS_SELECTOR, ".edit-form button[type=submit]").click()
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, ".message.user .versions"))
    wait_for_answer_end(browser)
    return offered


def test_edit_asks_the_latest_question_again_and_keeps_the_earlier_version_with_its_answer(browser, server):
    token = new_user(server, "edit-ui")
    # The echo model answers with the messages it was sent: the answers show which question went upstream.
    conversation = api(server, token, "POST", "/api/conversations", {"title": "Lisbon", "model": "sim-echo"})
    send_message(server, token, conversation["id"], "Where is Lisbon?")
    send_message(server, token, conversation["id"], "What to eat tehre?")
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.user")) == 2)
    # Every question offers Edit, as in ChatGPT.
    assert len(browser.find_elements(By.CSS_SELECTOR, ".message.user .edit")) == 2
    assert edit_question(browser, -1, "What to eat there?") == "What to eat tehre?"

    thread = api(server, token, "GET", f"/api/conversations/{conversation['id']}")["messages"]
    assert [m["content"] for m in thread if m["role"] == "user"] == ["Where is Lisbon?", "What to eat there?"]
    assert "user: What to eat there?" in thread[-1]["content"] and "tehre" not in thread[-1]["content"]

    def shown(d):
        question = d.find_elements(By.CSS_SELECTOR, ".message.user")[-1]
        return question.find_element(By.CSS_SELECTOR, ".text").text, d.find_elements(By.CSS_SELECTOR, ".message.assistant .text")[-1].text

    WebDriverWait(browser, 10).until(lambda d: shown(d)[0] == "What to eat there?" and "What to eat there?" in shown(d)[1])
    question = browser.find_elements(By.CSS_SELECTOR, ".message.user")[-1]
    assert question.find_element(By.CSS_SELECTOR, ".version-label").text.strip() == "2 / 2"
    question.find_element(By.CSS_SELECTOR, ".version-previous").click()
    WebDriverWait(browser, 10).until(lambda d: shown(d)[0] == "What to eat tehre?" and "tehre" in shown(d)[1])
    browser.find_elements(By.CSS_SELECTOR, ".message.user")[-1].find_element(By.CSS_SELECTOR, ".version-next").click()
    WebDriverWait(browser, 10).until(lambda d: shown(d)[0] == "What to eat there?" and "tehre" not in shown(d)[1])



def test_editing_an_earlier_question_starts_the_thread_again_from_it_and_keeps_the_turns_that_followed(browser, server):
    token = new_user(server, "edit-earlier-ui")
    conversation = api(server, token, "POST", "/api/conversations", {"title": "Porto", "model": "sim-echo"})
    send_message(server, token, conversation["id"], "Where is Prto?")
    send_message(server, token, conversation["id"], "What to see there?")
    before = api(server, token, "GET", f"/api/conversations/{conversation['id']}")["messages"]
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.user")) == 2)
    edit_question(browser, 0, "Where is Porto?")

    # The thread starts again from the edited question; the later turn went with the earlier version.
    thread = api(server, token, "GET", f"/api/conversations/{conversation['id']}")["messages"]
    assert [m["content"] for m in thread if m["role"] == "user"] == ["Where is Porto?"]
    assert thread[-1]["content"] == "user: Where is Porto?\n"
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.user")) == 1)
    # Nothing is lost: the earlier question, its answer and the turn after it are all kept.
    for message in before:
        assert api(server, token, "GET", f"/api/messages/{message['id']}")["content"] == message["content"]

    # The thread goes on from the new question. ‹ puts the earlier version back into the thread with the turns that
    # followed it (as ChatGPT switches branches); the newer branch is kept and › brings it back.
    send_message(server, token, conversation["id"], "What to eat there?")
    browser.refresh()

    def thread_shown(d):
        return [m.find_element(By.CSS_SELECTOR, ".text").text for m in d.find_elements(By.CSS_SELECTOR, "article.message")]

    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.user")) == 2)
    browser.find_elements(By.CSS_SELECTOR, ".message.user")[0].find_element(By.CSS_SELECTOR, ".version-previous").click()
    WebDriverWait(browser, 10).until(lambda d: thread_shown(d)[0::2] == ["Where is Prto?", "What to see there?"])
    # The answers the earlier version got, as they were written (the echo model's answer lists what it was sent).
    answers = thread_shown(browser)[1::2]
    assert answers[0] == "user: Where is Prto?" and "user: What to see there?" in answers[1]
    question = browser.find_element(By.CSS_SELECTOR, ".message.user")
    assert question.find_element(By.CSS_SELECTOR, ".version-label").text.strip() == "1 / 2"
    assert question.find_element(By.CSS_SELECTOR, ".version-previous").get_attribute("disabled") is not None

    # The choice is the conversation's, not the page's: a reload shows the same branch, and a message sent now goes on
    # from it.
    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.user")) == 2
                                     and thread_shown(d)[0] == "Where is Prto?")
    browser.find_element(By.ID, "input").send_keys("And the wine?", Keys.ENTER)
    wait_for_answer_end(browser)
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.assistant")) == 3)
    latest = thread_shown(browser)[-1]
    assert latest.startswith("user: Where is Prto?") and "What to see there?" in latest and "Porto" not in latest

    browser.find_element(By.CSS_SELECTOR, ".message.user .version-next").click()
    WebDriverWait(browser, 10).until(lambda d: thread_shown(d)[0::2] == ["Where is Porto?", "What to eat there?"])
    stored = api(server, token, "GET", f"/api/conversations/{conversation['id']}")["messages"]
    assert [m["content"] for m in stored if m["role"] == "user"] == thread_shown(browser)[0::2]
    assert len(stored) == len(thread_shown(browser)) == 4

def test_chatgpts_shortcuts_search_and_start_a_conversation(browser, server):
    token = new_user(server, "shortcuts-ui")
    api(server, token, "POST", "/api/conversations", {"title": "Old one"})
    open_as(browser, server, token)
    box = browser.find_element(By.ID, "input")
    box.send_keys(Keys.CONTROL, "k")
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.active_element == d.find_element(By.ID, "conversation-search"))
    browser.switch_to.active_element.send_keys(Keys.CONTROL, Keys.SHIFT, "o")
    WebDriverWait(browser, 10).until(lambda d: len(api(server, token, "GET", "/api/conversations")["conversations"]) == 2)
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["New conversation", "Old one"])


def act_on(browser, conversation_id, action):
    """Chooses one of a listed conversation's actions in its "⋯" menu."""
    conversation_action(browser, browser.find_element(By.CSS_SELECTOR, f'#conversation-list li[data-id="{conversation_id}"]'), action)


def test_pin_leads_the_list_and_archive_moves_a_conversation_apart_read_only_until_unarchived(browser, server):
    token = new_user(server, "pin-archive-ui")
    first, second, third = (api(server, token, "POST", "/api/conversations", {"title": title})
                            for title in ["First", "Second", "Third"])
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Third", "Second", "First"])

    act_on(browser, first["id"], "pin")
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["First", "Third", "Second"])
    headings = [h.text for h in browser.find_elements(By.CSS_SELECTOR, "#conversation-list .list-heading")]
    assert [h.upper() for h in headings] == ["PINNED", "TODAY"]
    assert "pinned_at" in api(server, token, "GET", f"/api/conversations/{first['id']}")
    act_on(browser, first["id"], "pin")
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Third", "Second", "First"])
    assert [h.text.upper() for h in browser.find_elements(By.CSS_SELECTOR, "#conversation-list .list-heading")] == ["TODAY"]

    # The open conversation archived: out of the list, its page read-only with a way back.
    assert browser.find_element(By.CSS_SELECTOR, '#conversation-list .conversation-open[aria-current="true"]').text == "Third"
    act_on(browser, third["id"], "archive")
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Second", "First"])
    notice = browser.find_element(By.ID, "archived-notice")
    WebDriverWait(browser, 10).until(lambda d: notice.is_displayed())
    assert not browser.find_element(By.ID, "input").is_enabled()
    assert "archived_at" in api(server, token, "GET", f"/api/conversations/{third['id']}")

    # Archived conversations are in the account menu; over them the list says so and has a way back.
    menu_item(browser, "archived-toggle").click()
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Third"])
    assert browser.find_element(By.ID, "archived-toggle").get_attribute("aria-checked") == "true"
    assert not browser.find_element(By.ID, "account-menu").is_displayed()
    back = browser.find_element(By.ID, "archived-back")
    assert back.is_displayed()
    back.click()
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Second", "First"])
    assert not back.is_displayed() and browser.find_element(By.ID, "archived-toggle").get_attribute("aria-checked") == "false"

    browser.find_element(By.ID, "unarchive").click()
    WebDriverWait(browser, 10).until(lambda d: not notice.is_displayed() and d.find_element(By.ID, "input").is_enabled())
    WebDriverWait(browser, 10).until(lambda d: titles(d) == ["Third", "Second", "First"])
    browser.find_element(By.ID, "input").send_keys("back again", Keys.ENTER)
    wait_for_answer_end(browser)
    messages = api(server, token, "GET", f"/api/conversations/{third['id']}")["messages"]
    assert [m["role"] for m in messages] == ["user", "assistant"] and messages[0]["content"] == "back again"


CHATGPT_EXPORT = [{
    "title": "Trip to Porto", "create_time": 1732000000.5, "current_node": "a2",
    "mapping": {
        "root": {"id": "root", "message": None, "parent": None, "children": ["q1"]},
        "q1": {"id": "q1", "parent": "root", "children": ["a1"], "message": {
            "id": "q1", "author": {"role": "user"}, "create_time": 1732000001.0,
            "content": {"content_type": "text", "parts": ["Where is Porto?"]}, "metadata": {}}},
        "a1": {"id": "a1", "parent": "q1", "children": ["q2"], "message": {
            "id": "a1", "author": {"role": "assistant"}, "create_time": 1732000002.0,
            "content": {"content_type": "text", "parts": ["In the **north** of Portugal."]}, "metadata": {"model_slug": "gpt-4o"}}},
        "q2": {"id": "q2", "parent": "a1", "children": ["a2"], "message": {
            "id": "q2", "author": {"role": "user"}, "create_time": 1732000003.0,
            "content": {"content_type": "text", "parts": ["<img src=x onerror=\"window.__xss=1\"> What to eat?"]}, "metadata": {}}},
        "a2": {"id": "a2", "parent": "q2", "children": [], "message": {
            "id": "a2", "author": {"role": "assistant"}, "create_time": 1732000004.0,
            "content": {"content_type": "text", "parts": ["Francesinha <img src=x onerror=\"window.__xss=2\">"]},
            "metadata": {"model_slug": "gpt-4o"}}},
    },
}]


def test_import_reads_chatgpts_export_into_the_list_opens_it_and_the_thread_goes_on(browser, server, tmp_path):
    token = new_user(server, "import-ui")
    export = tmp_path / "conversations.json"
    export.write_text(json.dumps(CHATGPT_EXPORT * 3))
    open_as(browser, server, token)
    browser.find_element(By.ID, "import-input").send_keys(str(export))
    WebDriverWait(browser, 15).until(
        lambda d: "Imported 3 conversations (12 messages) from conversations.json." in d.find_element(By.ID, "banner").text)
    # The first imported opens: its questions as text, its answers as sanitised Markdown, nothing run.
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "article.message")) == 4
                                     and d.find_elements(By.CSS_SELECTOR, '#conversation-list .conversation-open[aria-current="true"]'))
    WebDriverWait(browser, 10).until(lambda d: [title.split("\n")[0] for title in titles(d)] == ["Trip to Porto"] * 3)
    questions = [m.text for m in browser.find_elements(By.CSS_SELECTOR, ".message.user .text")]
    assert questions == ["Where is Porto?", "<img src=x onerror=\"window.__xss=1\"> What to eat?"]
    assert browser.find_element(By.CSS_SELECTOR, ".message.assistant .text strong").text == "north"
    assert browser.execute_script("return window.__xss") is None
    # The conversation goes on from its imported history, with a model this Sluice serves.
    browser.find_element(By.ID, "input").send_keys("And the wine?", Keys.ENTER)
    wait_for_answer_end(browser)
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.assistant")) == 3)
    stored = api(server, token, "GET", "/api/conversations")["conversations"]
    assert len(stored) == 3

    # A file that is not an export says so, and changes nothing.
    wrong = tmp_path / "notes.json"
    wrong.write_text(json.dumps({"title": "x"}))
    browser.find_element(By.ID, "import-input").send_keys(str(wrong))
    WebDriverWait(browser, 10).until(lambda d: "Sluice cannot import this file" in d.find_element(By.ID, "banner").text)
    assert len(api(server, token, "GET", "/api/conversations")["conversations"]) == 3
