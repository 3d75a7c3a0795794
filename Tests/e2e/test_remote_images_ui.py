"""A remote image in model output is not loaded — a prompt injection can write the conversation into an image's
address, and the browser would send it away just by showing it — but shown as a link; and the page's Content Security
Policy refuses such a load even if one got through. A real headless Chromium, and a real HTTP server that counts what
reaches it."""
import http.server
import threading
import urllib.request

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from conftest import free_port
from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as
from test_usage_ui import wait_for_answer_end


class Counting(http.server.BaseHTTPRequestHandler):
    hits = []

    def do_GET(self):
        Counting.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/gif")
        self.end_headers()
        self.wfile.write(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;")

    def log_message(self, *_):
        pass


def test_a_remote_image_in_an_answer_becomes_a_link_and_is_never_fetched(browser, server):
    port = free_port()
    collector = http.server.ThreadingHTTPServer(("127.0.0.1", port), Counting)
    threading.Thread(target=collector.serve_forever, daemon=True).start()
    try:
        token = new_user(server, "remote-image-ui")
        api(server, token, "POST", "/api/conversations", {"title": "Images", "model": "sim-echo"})
        open_as(browser, server, token)
        # The echo model answers with the message: its answer holds the image, as an injected answer would.
        leak = f"http://127.0.0.1:{port}/pixel.gif?secret=the-conversation"
        browser.find_element(By.ID, "input").send_keys(f"Look: ![a chart]({leak}) and more", Keys.ENTER)
        wait_for_answer_end(browser)
        answer = browser.find_element(By.CSS_SELECTOR, ".message.assistant .text")
        link = answer.find_element(By.CSS_SELECTOR, "a.remote-image")
        assert link.get_attribute("href") == leak and "a chart" in link.text and f"127.0.0.1:{port}" in link.text
        assert not answer.find_elements(By.TAG_NAME, "img")

        # Even an image put on the page by other means is refused by the page's policy, and says so.
        browser.execute_script("""
            window.__refused = [];
            document.addEventListener("securitypolicyviolation", (event) => window.__refused.push(event.blockedURI));
            const image = document.createElement("img");
            image.src = arguments[0];
            document.body.append(image);""", leak + "&again")
        WebDriverWait(browser, 5).until(lambda d: d.execute_script("return window.__refused.length") > 0)
        assert Counting.hits == [], Counting.hits
    finally:
        collector.shutdown()
        collector.server_close()

    with urllib.request.urlopen(server.base + "/", timeout=10) as page:
        assert "img-src 'self' data: blob:" in page.headers["Content-Security-Policy"]
        assert page.headers["X-Frame-Options"] == "DENY"
