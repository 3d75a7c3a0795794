"""Two-step verification in a real headless Chromium and from the shell: turning it on from the Password page with a
QR code and the authenticator's first code (made here by an independent RFC 6238 implementation on Python's hmac), the
sign-in asking for the code, a recovery code signing in once, and an administrator or `sluice user two-step-off`
turning it off for a user who lost their phone."""
import base64
import hashlib
import hmac
import json
import struct
import time
import urllib.error
import urllib.request

from selenium.webdriver.common.by import By

from conftest import menu_item
from test_chat_ui import WebDriverWait
from test_cli import run
from test_conversation_edit_ui import api, new_user, open_as
from test_sign_in_ui import signed_out_page, sign_in
from test_users_ui import open_users, row


def authenticator_code(secret, step):
    """What an authenticator app shows for `secret` (base32, spaces allowed) at 30-second step `step`: RFC 6238 with
    HMAC-SHA1 and six digits, written here apart from Sluice's own."""
    key = secret.replace(" ", "").upper()
    key = base64.b32decode(key + "=" * (-len(key) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    offset = mac[-1] & 0x0F
    return f"{(struct.unpack('>I', mac[offset:offset + 4])[0] & 0x7FFFFFFF) % 1_000_000:06d}"


def this_step():
    return int(time.time() // 30)


def sign_in_call(server, name, password, code=None):
    body = {"name": name, "password": password} | ({"code": code} if code else {})
    request = urllib.request.Request(
        f"{server.base}/api/sign-in", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def turn_on_by_api(server, token, password):
    """Two-step verification on for `token`'s user: the secret, the step its first code was for, the recovery codes."""
    api(server, token, "PUT", "/api/me/password", {"password": password})
    secret = api(server, token, "POST", "/api/me/two-step", {"password": password})["secret"]
    step = this_step()
    codes = api(server, token, "POST", "/api/me/two-step/confirm", {"code": authenticator_code(secret, step)})["recovery_codes"]
    return secret, step, codes


def test_a_user_turns_two_step_on_from_the_password_page_and_then_signs_in_with_a_code_or_a_recovery_code(browser, server):
    token = new_user(server, "two-step-ui")
    api(server, token, "PUT", "/api/me/password", {"password": "open sesame"})
    open_as(browser, server, token)
    menu_item(browser, "password-open").click()
    section = browser.find_element(By.CSS_SELECTOR, "#password-form .two-step")
    WebDriverWait(browser, 10).until(lambda _: section.find_element(By.CLASS_NAME, "two-step-state").text.startswith("Off"))

    section.find_element(By.CLASS_NAME, "two-step-turn-on").click()
    password = section.find_element(By.CLASS_NAME, "two-step-password-input")
    assert browser.switch_to.active_element == password
    password.send_keys("open sesame!")
    section.find_element(By.CLASS_NAME, "two-step-password-go").click()
    status = browser.find_element(By.CSS_SELECTOR, "#password-form .password-status")
    WebDriverWait(browser, 15).until(lambda _: "not your current password" in status.text)
    password.clear()
    password.send_keys("open sesame\n")  # Enter continues here; it does not submit the password change around it.
    setup = section.find_element(By.CLASS_NAME, "two-step-setup")
    WebDriverWait(browser, 15).until(lambda _: setup.is_displayed())
    secret = section.find_element(By.CLASS_NAME, "two-step-secret").text
    assert len(secret.replace(" ", "")) == 32
    # The QR code is drawn: dark modules on white, in the canvas the page shows.
    dark, light = browser.execute_script("""
        const canvas = arguments[0], pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
        let dark = 0, light = 0;
        for (let i = 0; i < pixels.length; i += 4) { if (pixels[i] < 60) dark += 1; else if (pixels[i] > 200) light += 1; }
        return [dark, light];""", section.find_element(By.CLASS_NAME, "two-step-qr"))
    assert dark > 2000 and light > 2000

    code = section.find_element(By.CLASS_NAME, "two-step-code")
    code.send_keys(authenticator_code(secret, this_step() + 7))
    section.find_element(By.CLASS_NAME, "two-step-confirm").click()
    WebDriverWait(browser, 15).until(lambda _: "not the code your authenticator shows" in status.text)
    code.clear()
    confirmed_step = this_step()
    code.send_keys(authenticator_code(secret, confirmed_step))
    section.find_element(By.CLASS_NAME, "two-step-confirm").click()
    codes_list = section.find_element(By.CLASS_NAME, "recovery-codes")
    WebDriverWait(browser, 15).until(lambda _: len(codes_list.find_elements(By.TAG_NAME, "li")) == 10)
    recovery = [item.text for item in codes_list.find_elements(By.TAG_NAME, "li")]
    assert all(len(item) == 11 and item[5] == "-" for item in recovery)
    assert "is on" in status.text and "10 recovery codes left" in section.find_element(By.CLASS_NAME, "two-step-state").text
    section.find_element(By.CLASS_NAME, "two-step-codes-done").click()
    WebDriverWait(browser, 15).until(lambda _: "10 recovery codes left" in section.find_element(By.CLASS_NAME, "two-step-state").text)

    # Signed out, the password alone is not enough: the form asks for the code, and takes the authenticator's next one.
    signed_out_page(browser, server)
    code_field = browser.find_element(By.ID, "sign-in-code")
    assert not code_field.is_displayed()
    sign_in(browser, "two-step-ui", "open sesame")
    WebDriverWait(browser, 15).until(lambda _: code_field.is_displayed())
    # Asked for, not an error: the field's help says what to type.
    error = browser.find_element(By.CSS_SELECTOR, "#password-sign-in .sign-in-error")
    assert browser.switch_to.active_element == code_field and error.text == ""
    assert "authenticator app" in browser.find_element(By.ID, "sign-in-code-help").text
    code_field.send_keys(authenticator_code(secret, confirmed_step))
    browser.find_element(By.CSS_SELECTOR, "#password-sign-in button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda _: "used a moment ago" in error.text)
    code_field.clear()
    code_field.send_keys(authenticator_code(secret, confirmed_step + 1))
    browser.find_element(By.CSS_SELECTOR, "#password-sign-in button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "account-name").text == "two-step-ui")

    # A recovery code signs in once, and the page says how many are left.
    signed_out_page(browser, server)
    sign_in(browser, "two-step-ui", "open sesame")
    code_field = browser.find_element(By.ID, "sign-in-code")
    WebDriverWait(browser, 15).until(lambda _: code_field.is_displayed())
    code_field.send_keys(recovery[0])
    browser.find_element(By.CSS_SELECTOR, "#password-sign-in button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda d: d.find_element(By.ID, "account-name").text == "two-step-ui")
    WebDriverWait(browser, 10).until(lambda d: "9 recovery codes are left" in d.find_element(By.ID, "banner").text)
    assert sign_in_call(server, "two-step-ui", "open sesame", recovery[0])[1]["error"]["code"] == "wrong_code"


def test_an_administrator_turns_two_step_off_for_a_user_who_lost_their_phone(browser, server):
    token = new_user(server, "two-step-lost-ui")
    turn_on_by_api(server, token, "my phone fell")
    assert sign_in_call(server, "two-step-lost-ui", "my phone fell")[1]["error"]["code"] == "two_step_required"
    page = open_users(browser, server)
    WebDriverWait(browser, 10).until(lambda _: row(page, "two-step-lost-ui") is not None)
    assert "two-step" in [badge.text for badge in row(page, "two-step-lost-ui").find_elements(By.CLASS_NAME, "admin-badge")]
    row(page, "two-step-lost-ui").find_element(By.XPATH, ".//button[text()='Turn off two-step']").click()
    WebDriverWait(browser, 5).until(lambda d: d.switch_to.alert).accept()
    WebDriverWait(browser, 15).until(
        lambda _: page.find_element(By.CLASS_NAME, "users-status").text.startswith("Two-step verification is off for two-step-lost-ui"))
    WebDriverWait(browser, 10).until(lambda _: not row(page, "two-step-lost-ui").find_elements(By.XPATH, ".//button[text()='Turn off two-step']"))
    assert sign_in_call(server, "two-step-lost-ui", "my phone fell")[0] == 200


def test_user_two_step_off_from_the_shell_and_the_user_list_says_who_has_it(server):
    token = new_user(server, "two-step-cli")
    turn_on_by_api(server, token, "kept in a drawer")
    listed = {line.split("\t")[0]: line.split("\t") for line in run("user", "list", "--db", server.db).stdout.splitlines()[1:]}
    assert listed["two-step-cli"][7:] == ["yes", "on", "-"]
    off = run("user", "two-step-off", "two-step-cli", "--db", server.db)
    assert off.returncode == 0 and "off for two-step-cli" in off.stdout
    assert sign_in_call(server, "two-step-cli", "kept in a drawer")[0] == 200
    again = run("user", "two-step-off", "two-step-cli", "--db", server.db)
    assert again.returncode == 0 and "nothing changed" in again.stdout
    assert run("user", "two-step-off", "nobody", "--db", server.db).returncode != 0
    # Both ends are in the user's security log, the shell's named as such.
    log = [line.split("\t") for line in run("user", "security-log", "two-step-cli", "--db", server.db).stdout.splitlines()]
    assert log[0] == ["at", "event", "detail", "address", "user agent"]
    assert [row[1] for row in log[1:5]] == ["signed_in", "two_step_off", "two_step_on", "password_changed"]
    assert log[2][2:4] == ["by `sluice user two-step-off` on the server", "-"] and log[3][3] == "127.0.0.1"
    assert run("user", "security-log", "two-step-cli", "--limit", "0", "--db", server.db).returncode != 0


def test_new_recovery_codes_and_turning_off_ask_for_the_password_on_the_password_page(browser, server):
    token = new_user(server, "two-step-manage-ui")
    _, _, old = turn_on_by_api(server, token, "kept safe")
    open_as(browser, server, token)
    menu_item(browser, "password-open").click()
    section = browser.find_element(By.CSS_SELECTOR, "#password-form .two-step")
    state = section.find_element(By.CLASS_NAME, "two-step-state")
    WebDriverWait(browser, 10).until(lambda _: state.text.startswith("On") and "10 recovery codes left" in state.text)
    assert not section.find_element(By.CLASS_NAME, "two-step-turn-on").is_displayed()

    section.find_element(By.CLASS_NAME, "two-step-renew").click()
    section.find_element(By.CLASS_NAME, "two-step-password-input").send_keys("kept safe\n")
    codes_list = section.find_element(By.CLASS_NAME, "recovery-codes")
    WebDriverWait(browser, 15).until(lambda _: len(codes_list.find_elements(By.TAG_NAME, "li")) == 10)
    new = [item.text for item in codes_list.find_elements(By.TAG_NAME, "li")]
    assert not set(new) & set(old)
    # Download offers the codes as a text file, caught here rather than saved.
    browser.execute_script("""
        window.__saved = null;
        const click = HTMLAnchorElement.prototype.click;
        HTMLAnchorElement.prototype.click = function () {
          if (this.download) fetch(this.href).then((r) => r.text()).then((text) => { window.__saved = [this.download, text]; });
          else click.call(this);
        };""")
    section.find_element(By.CLASS_NAME, "two-step-codes-download").click()
    name, text = WebDriverWait(browser, 10).until(lambda d: d.execute_script("return window.__saved"))
    assert name == "sluice-recovery-codes.txt" and all(code in text for code in new)
    section.find_element(By.CLASS_NAME, "two-step-codes-done").click()
    assert sign_in_call(server, "two-step-manage-ui", "kept safe", old[0])[1]["error"]["code"] == "wrong_code"
    assert sign_in_call(server, "two-step-manage-ui", "kept safe", new[0])[0] == 200

    section.find_element(By.CLASS_NAME, "two-step-turn-off").click()
    section.find_element(By.CLASS_NAME, "two-step-password-input").send_keys("kept safe\n")
    WebDriverWait(browser, 15).until(lambda _: state.text.startswith("Off"))
    assert sign_in_call(server, "two-step-manage-ui", "kept safe")[0] == 200
