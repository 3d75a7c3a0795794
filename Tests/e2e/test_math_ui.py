"""Math in answers, in a real Chromium: KaTeX typesets `$…$`, `\\(…\\)` and `$$…$$` (a display block), as ChatGPT and
Open WebUI do; dollar amounts, code and escaped dollars stay text, and TeX cannot make a link."""
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from test_chat_ui import WebDriverWait
from test_conversation_edit_ui import api, new_user, open_as, send_message
from test_usage_ui import wait_for_answer_end

# The echo model answers with the messages it was sent ("user: …"), so the answer holds exactly this Markdown.
QUESTION = "\n\n".join([
    r"Energy is $E = mc^2$ and the sum is \(a_1 + b_2\).",
    r"$$\int_0^1 x^2\,dx = \frac{1}{3}$$",
    r"It costs $5 and $10, `$x$` is code, \$y\$ is escaped, and $\href{javascript:alert(1)}{click}$ is not a link.",
    r"A shell's $HOME/$USER/bin is no formula.",
])


def answer(browser):
    return browser.find_elements(By.CSS_SELECTOR, "#messages .message.assistant")[-1]


def open_answer_to_the_question(browser, server, name):
    """A new user's conversation where the echo model answered QUESTION, opened once its formulas are typeset."""
    token = new_user(server, name)
    conversation = api(server, token, "POST", "/api/conversations", {"model": "sim-echo"})
    send_message(server, token, conversation["id"], QUESTION)
    open_as(browser, server, token)
    WebDriverWait(browser, 10).until(lambda d: answer(d).find_elements(By.CSS_SELECTOR, ".katex"))
    return answer(browser)


def test_math_is_typeset_and_what_is_not_math_stays_text(browser, server):
    shown = open_answer_to_the_question(browser, server, "math-ui")
    formulas = shown.find_elements(By.CSS_SELECTOR, ".katex")
    # E = mc², a₁ + b₂, the integral, and the \href — refused (KaTeX runs without trust): its name in the error colour.
    assert len(formulas) == 4
    assert "\\href" in formulas[3].text
    blocks = shown.find_elements(By.CSS_SELECTOR, ".math-block .katex-display")
    assert len(blocks) == 1 and "∫" in blocks[0].text and blocks[0].size["height"] > 30
    # Readable to assistive technology (KaTeX's MathML survives the sanitiser), drawn in KaTeX's own fonts.
    assert len(shown.find_elements(By.CSS_SELECTOR, ".katex-mathml math")) == 4
    assert shown.find_element(By.CSS_SELECTOR, ".katex-mathml").get_attribute("textContent") == "E=mc2"
    loaded = browser.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "document.fonts.load('16px KaTeX_Main').then((faces) => done(faces.filter((f) => f.status === 'loaded').length), () => done(-1));")
    assert loaded > 0
    text = shown.find_element(By.CSS_SELECTOR, ".text").text
    assert "$5 and $10" in text and "$y$" in text and "$HOME/$USER/bin" in text
    assert shown.find_element(By.CSS_SELECTOR, "code").text == "$x$"
    assert not shown.find_elements(By.CSS_SELECTOR, "a")


def test_math_typed_in_the_page_is_typeset_as_the_answer_streams_in(browser, server):
    token = new_user(server, "math-ui-typed")
    api(server, token, "POST", "/api/conversations", {"model": "sim-echo"})
    open_as(browser, server, token)
    browser.find_element(By.ID, "input").send_keys(r"The area is $\pi r^2$.", Keys.ENTER)
    wait_for_answer_end(browser)
    WebDriverWait(browser, 10).until(lambda d: answer(d).find_elements(By.CSS_SELECTOR, ".katex"))
    assert "π" in answer(browser).find_element(By.CSS_SELECTOR, ".katex").text


# Selects from the start of `arguments[0]` (or from inside its first formula's drawing) to its end, and copies it as
# the browser would (a `copy` event with the clipboard's data): what the clipboard would get as plain text.
COPY = """
const [element, fromInsideFormula] = arguments;
const range = document.createRange();
range.selectNodeContents(element);
if (fromInsideFormula) {
  const glyphs = document.createTreeWalker(element.querySelector('.katex-html'), NodeFilter.SHOW_TEXT);
  glyphs.nextNode();
  glyphs.nextNode();
  range.setStart(glyphs.currentNode, 0);
}
const selection = getSelection();
selection.removeAllRanges();
selection.addRange(range);
const clipboardData = new DataTransfer();
const event = new ClipboardEvent('copy', { clipboardData, bubbles: true, cancelable: true });
element.dispatchEvent(event);
return [clipboardData.getData('text/plain'), event.defaultPrevented];
"""


def test_copying_a_selection_gives_the_formulas_tex(browser, server):
    text = open_answer_to_the_question(browser, server, "math-ui-copy").find_element(By.CSS_SELECTOR, ".text")
    copied, taken = browser.execute_script(COPY, text, False)
    assert taken
    # Each formula as TeX between dollars, once — not KaTeX's glyphs followed by its MathML's text.
    assert "Energy is $E = mc^2$ and the sum is $a_1 + b_2$." in copied
    assert "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$" in copied
    assert "E=mc2" not in copied and "∫" not in copied
    # Paragraphs stay on lines of their own; what is not math is copied as shown.
    lines = [line for line in copied.splitlines() if line.strip()]
    assert lines[0].startswith("user: Energy is") and lines[1] == "$$\\int_0^1 x^2\\,dx = \\frac{1}{3}$$"
    assert "It costs $5 and $10, $x$ is code, $y$ is escaped" in copied and "$HOME/$USER/bin" in copied
    # Begun inside the first formula's drawing, the copy takes the whole formula.
    copied, _ = browser.execute_script(COPY, text, True)
    assert copied.lstrip().startswith("$E = mc^2$ and the sum is")
