"""Images in the web chat, in a real headless Chromium against a real server and the simulator: attached with the paperclip or
pasted, shown as thumbnails, sent as the question, shown with it after a reload; a link is never loaded."""
import base64

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from test_chat_ui import WebDriverWait, answer_text, open_conversation_with_model, stored_thread

# Real images written by Pillow (Tests/SluiceTestSupport/TestImages.swift has the same).
PNG_3X2 = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAMAAAACCAIAAAASFvFNAAAAFUlEQVR4nGM8IWfDwMDAwMDAxAADABUsASY0+3CFAAAAAElFTkSuQmCC")
GIF_5X7 = base64.b64decode("R0lGODdhBQAHAIEAAMgePAAAAAAAAAAAACwAAAAABQAHAAAIDAABCBxIsKDBgwcDAgA7")


def fnv1a(data):
    """What the simulator's `echo` says of an image's bytes."""
    value = 0xcbf29ce484222325
    for byte in data:
        value = ((value ^ byte) * 0x100000001b3) & 0xFFFFFFFFFFFFFFFF
    return f"{value:016x}"


def seen(kind, data):
    return f"image: {kind} {len(data)} bytes fnv1a {fnv1a(data)}"


def wait_for_answer(browser, count):
    WebDriverWait(browser, 30).until(
        lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.assistant")) >= count
        and not d.find_elements(By.CSS_SELECTOR, ".message.streaming"))


def test_an_attached_or_pasted_image_goes_with_the_message_and_stays_with_it(browser, server, tmp_path):
    photo = tmp_path / "photo.png"
    photo.write_bytes(PNG_3X2)
    bitmap = tmp_path / "old.bmp"
    bitmap.write_bytes(b"BM" + bytes(60))
    open_conversation_with_model(browser, server, "sim-echo")

    picker = browser.find_element(By.ID, "attach-input")
    # A type models do not take is refused in the browser, with the reason.
    picker.send_keys(str(bitmap))
    WebDriverWait(browser, 5).until(lambda d: "old.bmp is a BMP image; attach PNG, JPEG, GIF or WebP" in d.find_element(By.ID, "banner").text)
    picker.send_keys(str(photo))
    chip = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "#attachments li"))
    assert chip.text.startswith("photo.png · 78 B")
    thumbnail = chip.find_element(By.CSS_SELECTOR, "img.thumb")
    WebDriverWait(browser, 5).until(lambda d: d.execute_script("return arguments[0].naturalWidth", thumbnail) == 3)

    # No words: the image is the question.
    browser.find_element(By.ID, "input").send_keys(Keys.ENTER)
    wait_for_answer(browser, 1)
    assert seen("image/png", PNG_3X2) in answer_text(browser)
    assert browser.find_element(By.ID, "attachments").get_attribute("hidden") is not None, "the tray is empty after sending"
    question = stored_thread(server)[0]
    assert question["content"] == "" and len(question["images"]) == 1
    assert (question["images"][0]["media_type"], question["images"][0]["width"], question["images"][0]["height"]) == ("image/png", 3, 2)
    # The conversation names its images by address; the page fetches each with the token.
    assert question["images"][0]["url"] == f"/api/messages/{question['id']}/images/0"

    # A pasted screenshot joins the next message.
    browser.execute_script("""
        const bytes = Uint8Array.from(atob(arguments[0]), (c) => c.charCodeAt(0));
        const data = new DataTransfer();
        data.items.add(new File([bytes], "", {type: "image/gif"}));
        document.getElementById("input").dispatchEvent(new ClipboardEvent("paste", {clipboardData: data, bubbles: true, cancelable: true}));
    """, base64.b64encode(GIF_5X7).decode())
    chip = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, "#attachments li"))
    assert chip.text.startswith("pasted-image-1 · 51 B")
    browser.find_element(By.ID, "input").send_keys("And this one?", Keys.ENTER)
    wait_for_answer(browser, 2)
    # The earlier image goes again with the conversation, then the new one with its words.
    text = answer_text(browser)
    assert seen("image/png", PNG_3X2) in text and "And this one?" in text
    assert text.index("And this one?") < text.index(seen("image/gif", GIF_5X7))

    browser.refresh()
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".message.user .images img")) == 2)
    shown = browser.find_elements(By.CSS_SELECTOR, ".message.user .images img")
    WebDriverWait(browser, 5).until(lambda d: [d.execute_script("return arguments[0].naturalWidth", image) for image in shown] == [3, 5])
    assert shown[0].get_attribute("alt") == "Image 1 (3 × 2)"
    assert all(image.get_attribute("src").startswith("blob:") for image in shown)


def test_a_linked_image_is_shown_as_a_link_and_never_loaded(browser, server):
    """An image a gateway caller sent as a link: the page shows the link, and the browser never fetches it (which
    would tell the link's owner that the conversation was opened)."""
    link = "http://127.0.0.1:9/tracker.png"
    server.api("POST", "/v1/chat/completions", {"model": "sim", "messages": [{"role": "user", "content": [
        {"type": "text", "text": "Look"}, {"type": "image_url", "image_url": {"url": link}}]}]})
    open_conversation_with_model(browser, server, "sim")
    # The gateway's conversation is the most recent but one: open it from the list.
    WebDriverWait(browser, 10).until(lambda d: any(b.text.startswith("API: Look") for b in d.find_elements(By.CSS_SELECTOR, "#conversation-list button")))
    next(b for b in browser.find_elements(By.CSS_SELECTOR, "#conversation-list button") if b.text.startswith("API: Look")).click()
    anchor = WebDriverWait(browser, 10).until(lambda d: d.find_element(By.CSS_SELECTOR, ".message.user .images a"))
    assert anchor.get_attribute("href") == link and anchor.get_attribute("rel") == "noopener noreferrer"
    assert not browser.find_elements(By.CSS_SELECTOR, ".message.user .images img")
    requested = browser.execute_script("return performance.getEntriesByType('resource').map((entry) => entry.name)")
    assert link not in requested
