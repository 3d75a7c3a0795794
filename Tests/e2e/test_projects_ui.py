"""Projects (ChatGPT's) in a real headless Chromium: made in the sidebar with instructions that reach the model, a
conversation started in one or moved into it, the project renamed, folded, and deleted with its conversations kept."""
from selenium.webdriver.common.action_chains import ActionChains

from conftest import conversation_action, menu_item, project_action
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as, send_message
from test_usage_ui import wait_for_answer_end


def listed(browser, where):
    return [e.text.split("\n")[0] for e in browser.find_elements(By.CSS_SELECTOR, f"{where} .conversation-open")]


def press(browser, container, selector):
    """Hovers `container` (its buttons show on hover) and presses the button `selector` in it."""
    ActionChains(browser).move_to_element(container).perform()
    container.find_element(By.CSS_SELECTOR, selector).click()


def fill_project_form(browser, name=None, instructions=None, stays_open=False):
    form = browser.find_element(By.ID, "project-form")
    WebDriverWait(browser, 5).until(lambda d: form.is_displayed())
    if name is not None:
        field = form.find_element(By.CSS_SELECTOR, ".project-name")
        field.clear()
        field.send_keys(name)
    if instructions is not None:
        box = form.find_element(By.CSS_SELECTOR, ".project-instructions")
        box.clear()
        box.send_keys(instructions)
    form.find_element(By.CSS_SELECTOR, "button[type='submit']").click()
    if not stays_open:
        WebDriverWait(browser, 5).until(lambda d: not form.is_displayed())


def test_a_project_groups_conversations_and_sends_its_instructions_and_files(browser, server, tmp_path):
    token = new_user(server, "projects-ui")
    loose = api(server, token, "POST", "/api/conversations", {"title": "Loose ends"})
    send_message(server, token, loose["id"], "Hi")
    plain_input = api(server, token, "GET", f"/api/conversations/{loose['id']}")["messages"][-1]["usage"]["input_tokens"]
    open_as(browser, server, token)
    assert browser.find_elements(By.CSS_SELECTOR, "#project-list .project") == []

    browser.find_element(By.ID, "project-create").click()
    assert not browser.find_element(By.CSS_SELECTOR, "#project-form .project-files-box").is_displayed()
    fill_project_form(browser, name="Thesis", instructions="Cite every source you use.", stays_open=True)
    # Made, its form stays open for its files: a text file is added, a binary one refused with a reason.
    files = WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, "#project-form .project-files-box"))
    WebDriverWait(browser, 5).until(lambda d: files.is_displayed())
    assert "Project made" in browser.find_element(By.CSS_SELECTOR, "#project-form .instructions-status").text
    (tmp_path / "notes.txt").write_text("alpha beta gamma")
    (tmp_path / "photo.bin").write_bytes(b"\x89PNG\x00\x00")
    picker = files.find_element(By.CSS_SELECTOR, ".project-files-input")
    picker.send_keys(str(tmp_path / "notes.txt"))
    WebDriverWait(browser, 5).until(
        lambda d: [li.text.split("\n")[0] for li in files.find_elements(By.CSS_SELECTOR, "li")] == ["notes.txt · 16 characters"])
    picker.send_keys(str(tmp_path / "photo.bin"))
    WebDriverWait(browser, 5).until(lambda d: "photo.bin is not a text file" in d.find_element(By.ID, "banner").text)
    assert len(files.find_elements(By.CSS_SELECTOR, "li")) == 1
    browser.find_element(By.CSS_SELECTOR, "#project-form .instructions-cancel").click()
    head = WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, "#project-list .project-head"))
    assert head.find_element(By.CSS_SELECTOR, ".project-open").text == "Thesis 0"
    projects = api(server, token, "GET", "/api/projects")["projects"]
    assert [(p["name"], p["instructions"]) for p in projects] == [("Thesis", "Cite every source you use.")]
    # Unfolded, saying how to fill it.
    assert "No conversations yet" in browser.find_element(By.CSS_SELECTOR, "#project-list .project-conversations").text

    # A conversation started in the project: its messages go with the project's instructions (5 more words) and its
    # file (6: `<file`, `name="notes.txt">`, three words, `</file>`), as a system message (4).
    press(browser, head, ".project-new")
    WebDriverWait(browser, 5).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, '#project-list .project-conversations .conversation-open[aria-current="true"]'))
    assert browser.find_element(By.ID, "project-crumb").text == "Thesis"
    browser.find_element(By.ID, "input").send_keys("Hi", Keys.ENTER)
    WebDriverWait(browser, 30).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#messages .message.assistant"))
    wait_for_answer_end(browser)
    inside = [c for c in api(server, token, "GET", "/api/conversations")["conversations"] if c.get("project_id")]
    assert len(inside) == 1 and inside[0]["project_id"] == projects[0]["id"]
    answer = api(server, token, "GET", f"/api/conversations/{inside[0]['id']}")["messages"][-1]
    assert answer["usage"]["input_tokens"] == plain_input + 4 + 5 + 6
    # Listed under the project, not among the other conversations.
    assert listed(browser, "#conversation-list") == ["Loose ends"]
    assert listed(browser, "#project-list") == ["Hi"]

    # "Move to project" in a conversation's menu moves it in; Escape leaves it where it is.
    item = browser.find_element(By.CSS_SELECTOR, "#conversation-list li[data-id]")
    conversation_action(browser, item, "move")
    choices = WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, "#conversation-list .move-choices"))
    assert [b.text for b in choices.find_elements(By.CSS_SELECTOR, "button")] == ["No project", "Thesis"]
    # The focus is on the choice the conversation has now ("No project"): Escape there.
    assert browser.switch_to.active_element.text == "No project"
    browser.switch_to.active_element.send_keys(Keys.ESCAPE)
    WebDriverWait(browser, 5).until(lambda d: listed(d, "#conversation-list") == ["Loose ends"])
    item = browser.find_element(By.CSS_SELECTOR, "#conversation-list li[data-id]")
    conversation_action(browser, item, "move")
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, "#conversation-list .move-choices"))
    browser.find_element(By.XPATH, "//div[@class='move-choices']/button[text()='Thesis']").click()
    WebDriverWait(browser, 5).until(lambda d: sorted(listed(d, "#project-list")) == ["Hi", "Loose ends"])
    assert listed(browser, "#conversation-list") == []
    assert api(server, token, "GET", f"/api/conversations/{loose['id']}")["project_id"] == projects[0]["id"]
    assert browser.find_element(By.CSS_SELECTOR, "#project-list .project-open").text == "Thesis 2"

    # Renamed in its form (from its menu): the list and the open conversation's header follow.
    project_action(browser, "Thesis", "edit")
    assert browser.find_element(By.CSS_SELECTOR, "#project-form .project-name").get_attribute("value") == "Thesis"
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, "#project-form .project-files li").text.startswith("notes.txt"))
    fill_project_form(browser, name="PhD thesis")
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "project-crumb").text == "PhD thesis")
    assert browser.find_element(By.CSS_SELECTOR, "#project-list .project-open").text == "PhD thesis 2"

    # Folded, its conversations are out of sight; unfolded again, back.
    browser.find_element(By.CSS_SELECTOR, "#project-list .project-open").click()
    WebDriverWait(browser, 5).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#project-list .project-conversations"))
    assert browser.find_element(By.CSS_SELECTOR, "#project-list .project-open").get_attribute("aria-expanded") == "false"
    browser.find_element(By.CSS_SELECTOR, "#project-list .project-open").click()
    WebDriverWait(browser, 5).until(lambda d: len(listed(d, "#project-list")) == 2)

    # The usage page counts the project's answer under its name, the other conversation's under none.
    menu_item(browser, "usage-open").click()
    per_project = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "#usage-page .usage-projects"))
    WebDriverWait(browser, 10).until(lambda d: per_project.is_displayed())
    lines = [li.text for li in per_project.find_elements(By.CSS_SELECTOR, "li")]
    assert len(lines) == 1 and lines[0].startswith("PhD thesis: ") and lines[0].endswith("2 answers"), lines
    menu_item(browser, "usage-open").click()

    # Its file removed with ×.
    project_action(browser, "PhD thesis", "edit")
    WebDriverWait(browser, 5).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#project-form .project-file-remove"))
    browser.find_element(By.CSS_SELECTOR, "#project-form .project-file-remove").click()
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, "#project-form .project-files li").text == "No files yet.")
    assert api(server, token, "GET", f"/api/projects/{projects[0]['id']}")["files"] == []

    # Deleted (after asking): its conversations stay, with their messages, among the others.
    browser.find_element(By.CSS_SELECTOR, "#project-form .project-delete").click()
    alert = WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert)
    assert "conversations are kept" in alert.text
    alert.accept()
    WebDriverWait(browser, 5).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#project-list .project"))
    WebDriverWait(browser, 5).until(lambda d: sorted(listed(d, "#conversation-list")) == ["Hi", "Loose ends"])
    assert not browser.find_element(By.ID, "project-crumb").is_displayed()
    assert api(server, token, "GET", "/api/projects")["projects"] == []
    kept = api(server, token, "GET", f"/api/conversations/{loose['id']}")
    assert "project_id" not in kept and len(kept["messages"]) == 2


DRAG = """
const [source, target] = arguments;
const data = new DataTransfer();
source.dispatchEvent(new DragEvent("dragstart", { bubbles: true, dataTransfer: data }));
const over = new DragEvent("dragover", { bubbles: true, cancelable: true, dataTransfer: data });
target.dispatchEvent(over);
target.dispatchEvent(new DragEvent("drop", { bubbles: true, cancelable: true, dataTransfer: data }));
source.dispatchEvent(new DragEvent("dragend", { bubbles: true, dataTransfer: data }));
return over.defaultPrevented;
"""


def test_a_conversation_dragged_onto_a_project_moves_into_it_and_back_out(browser, server):
    token = new_user(server, "projects-drag-ui")
    project = api(server, token, "POST", "/api/projects", {"name": "Garden"})
    conversation = api(server, token, "POST", "/api/conversations", {"title": "Tomatoes"})
    api(server, token, "POST", "/api/conversations", {"title": "Taxes"})
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: sorted(listed(d, "#conversation-list")) == ["Taxes", "Tomatoes"])

    # The open conversation ("Taxes", the newest) dragged in: the header names its project at once.
    taxes = browser.find_element(By.CSS_SELECTOR, '#conversation-list .conversation-open[aria-current="true"]')
    assert taxes.text == "Taxes" and not browser.find_element(By.ID, "project-crumb").is_displayed()
    taxes_id = taxes.find_element(By.XPATH, "..").get_attribute("data-id")
    target = browser.find_element(By.CSS_SELECTOR, "#project-list li.project")
    assert browser.execute_script(DRAG, taxes.find_element(By.XPATH, ".."), target) is True
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "project-crumb").text == "Garden")
    WebDriverWait(browser, 5).until(lambda d: listed(d, "#conversation-list") == ["Tomatoes"])
    # Unfolded by itself (it holds the open conversation); dragged back onto the list, the header's project goes.
    source = WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, f'#project-list li[data-id="{taxes_id}"]'))
    assert browser.execute_script(DRAG, source, browser.find_element(By.ID, "conversation-list")) is True
    WebDriverWait(browser, 5).until(lambda d: not d.find_element(By.ID, "project-crumb").is_displayed())
    WebDriverWait(browser, 5).until(lambda d: sorted(listed(d, "#conversation-list")) == ["Taxes", "Tomatoes"])

    source = browser.find_element(By.CSS_SELECTOR, f'#conversation-list li[data-id="{conversation["id"]}"]')
    target = browser.find_element(By.CSS_SELECTOR, "#project-list li.project")
    assert browser.execute_script(DRAG, source, target) is True, "the project takes the drop"
    WebDriverWait(browser, 5).until(lambda d: listed(d, "#conversation-list") == ["Taxes"])
    assert api(server, token, "GET", f"/api/conversations/{conversation['id']}")["project_id"] == project["id"]
    # Unfolded or not, the project counts it.
    assert browser.find_element(By.CSS_SELECTOR, "#project-list .project-open").text == "Garden 1"

    # Dragged back onto the list, it leaves the project.
    browser.find_element(By.CSS_SELECTOR, "#project-list .project-open").click()
    source = WebDriverWait(browser, 5).until(
        lambda d: d.find_element(By.CSS_SELECTOR, f'#project-list li[data-id="{conversation["id"]}"]'))
    assert browser.execute_script(DRAG, source, browser.find_element(By.ID, "conversation-list")) is True
    WebDriverWait(browser, 5).until(lambda d: sorted(listed(d, "#conversation-list")) == ["Taxes", "Tomatoes"])
    assert "project_id" not in api(server, token, "GET", f"/api/conversations/{conversation['id']}")


def test_a_projects_menu_starts_a_conversation_in_it_opens_its_form_and_deletes_it(browser, server):
    """The "⋯" beside a project, as beside a conversation: its choices named, reached by the keyboard too; a
    conversation started from it lands in the project, and the project deleted from it (after asking) keeps its
    conversations."""
    token = new_user(server, "projects-menu-ui")
    project = api(server, token, "POST", "/api/projects", {"name": "Garden"})
    open_as(browser, server, token)
    head = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "#project-list .project-head"))
    more = head.find_element(By.CSS_SELECTOR, ".project-more")
    assert more.get_attribute("aria-haspopup") == "menu" and "Garden" in more.get_attribute("aria-label")
    browser.execute_script("arguments[0].focus()", more)
    more.send_keys(Keys.ENTER)
    menu = WebDriverWait(browser, 5).until(lambda d: d.find_element(By.CSS_SELECTOR, ".popup-menu"))
    assert [e.text for e in menu.find_elements(By.CSS_SELECTOR, "[role=menuitem]")] == [
        "New conversation", "Instructions and files", "Delete project"]
    assert browser.switch_to.active_element.text == "New conversation"
    browser.switch_to.active_element.send_keys(Keys.ARROW_DOWN)
    browser.switch_to.active_element.send_keys(Keys.ENTER)
    form = browser.find_element(By.ID, "project-form")
    WebDriverWait(browser, 5).until(lambda d: form.is_displayed())
    assert form.find_element(By.CSS_SELECTOR, ".project-name").get_attribute("value") == "Garden"
    form.find_element(By.CSS_SELECTOR, ".instructions-cancel").click()

    project_action(browser, "Garden", "start")
    WebDriverWait(browser, 5).until(lambda d: d.find_element(By.ID, "project-crumb").text == "Garden")
    browser.find_element(By.ID, "input").send_keys("Tomatoes", Keys.ENTER)
    wait_for_answer_end(browser)
    WebDriverWait(browser, 10).until(lambda d: listed(d, "#project-list") == ["Tomatoes"])
    [conversation] = api(server, token, "GET", "/api/conversations")["conversations"]
    assert conversation["project_id"] == project["id"]

    # Deleted from the menu, after asking; dismissed first, it stays.
    project_action(browser, "Garden", "remove")
    alert = WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert)
    assert "Delete the project “Garden”" in alert.text
    alert.dismiss()
    assert [p["name"] for p in api(server, token, "GET", "/api/projects")["projects"]] == ["Garden"]
    project_action(browser, "Garden", "remove")
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert).accept()
    WebDriverWait(browser, 5).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "#project-list .project"))
    WebDriverWait(browser, 5).until(lambda d: listed(d, "#conversation-list") == ["Tomatoes"])
    assert api(server, token, "GET", "/api/projects")["projects"] == []
    assert "project_id" not in api(server, token, "GET", f"/api/conversations/{conversation['id']}")
