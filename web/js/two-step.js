// Two-step verification (account menu → Password), as GitHub's "Two-factor authentication": turned on by scanning a QR
// code (or typing its key) into an authenticator app and typing the first code it shows; ten recovery codes are then
// shown once, to copy or download. New recovery codes and turning it off ask for the password again. Only for a user
// with a password: it guards the name-and-password sign-in.

import * as api from "./api.js";

/** Draws the QR code of `text` on `canvas` with Debian's qrcode-generator (`/vendor/qrcode.js`); `false` without it. */
export function drawQRCode(canvas, text) {
  if (typeof globalThis.qrcode !== "function") return false;
  const code = globalThis.qrcode(0, "M");
  code.addData(text);
  code.make();
  const modules = code.getModuleCount();
  const quiet = 4;
  const cell = Math.max(2, Math.floor(canvas.width / (modules + 2 * quiet)));
  const context = canvas.getContext("2d");
  context.fillStyle = "#fff";
  context.fillRect(0, 0, canvas.width, canvas.height);
  context.fillStyle = "#000";
  const offset = Math.floor((canvas.width - modules * cell) / 2);
  for (let row = 0; row < modules; row += 1) {
    for (let column = 0; column < modules; column += 1) {
      if (code.isDark(row, column)) context.fillRect(offset + column * cell, offset + row * cell, cell, cell);
    }
  }
  return true;
}

export class TwoStepSettings {
  /** `section`: the Password page's two-step part; `account`: whose user says whether there is a password;
   * `say(text, failed)`: the page's status line; `onChanged()`: after it was turned on or off or codes renewed. */
  constructor({ section, account, say, onChanged = () => {} }) {
    Object.assign(this, { section, account, say, onChanged });
    const $ = (name) => section.querySelector(name);
    this.parts = { actions: $(".two-step-actions"), password: $(".two-step-password"), setup: $(".two-step-setup"), codes: $(".two-step-codes") };
    this.passwordInput = $(".two-step-password-input");
    this.codeInput = $(".two-step-code");
    $(".two-step-turn-on").addEventListener("click", () => this.askPassword("turn-on"));
    $(".two-step-renew").addEventListener("click", () => this.askPassword("renew"));
    $(".two-step-turn-off").addEventListener("click", () => this.askPassword("turn-off"));
    $(".two-step-password-go").addEventListener("click", () => this.withPassword());
    $(".two-step-password-cancel").addEventListener("click", () => this.load());
    $(".two-step-confirm").addEventListener("click", () => this.confirm());
    $(".two-step-setup-cancel").addEventListener("click", () => this.load());
    $(".two-step-codes-copy").addEventListener("click", () => this.copyCodes());
    $(".two-step-codes-download").addEventListener("click", () => this.downloadCodes());
    $(".two-step-codes-done").addEventListener("click", () => this.load());
    // Enter in these fields does the step they belong to, not the password change of the form around them.
    this.passwordInput.addEventListener("keydown", (event) => this.onEnter(event, () => this.withPassword()));
    this.codeInput.addEventListener("keydown", (event) => this.onEnter(event, () => this.confirm()));
  }

  onEnter(event, run) {
    if (event.key !== "Enter") return;
    event.preventDefault();
    run();
  }

  /** Shows one part of the section (the buttons, the password, the set-up, the codes). */
  show(part) {
    for (const [name, element] of Object.entries(this.parts)) element.hidden = name !== part;
  }

  /** Reads the state from the server and shows what may be done with it. */
  async load() {
    this.section.hidden = !this.account.user?.has_password;
    if (this.section.hidden) return;
    this.passwordInput.value = this.codeInput.value = "";
    if (await this.refreshState()) this.show("actions");
  }

  /** Reads the state from the server into the line that says it and the buttons offered; `false` when it failed. */
  async refreshState() {
    try {
      this.state = await api.twoStep();
    } catch (error) {
      this.say(error.message, true);
      return false;
    }
    const { on, recovery_codes_left: left } = this.state;
    this.section.querySelector(".two-step-state").textContent = on
      ? `On: signing in with your password also asks for your authenticator's code. ${left === 1 ? "1 recovery code" : `${left} recovery codes`} left.`
      : "Off: your password alone signs you in. Turn it on to ask for a code from an authenticator app as well.";
    this.section.querySelector(".two-step-turn-on").hidden = on;
    this.section.querySelector(".two-step-renew").hidden = !on;
    this.section.querySelector(".two-step-turn-off").hidden = !on;
    return true;
  }

  askPassword(next) {
    this.next = next;
    const labels = { "turn-on": "Continue", renew: "Make new codes", "turn-off": "Turn off" };
    this.section.querySelector(".two-step-password-go").textContent = labels[next];
    this.show("password");
    this.passwordInput.focus();
  }

  async withPassword() {
    const password = this.passwordInput.value;
    try {
      if (this.next === "turn-on") {
        const { secret, uri } = await api.beginTwoStep(password);
        this.section.querySelector(".two-step-secret").textContent = secret.replace(/(.{4})/g, "$1 ").trim();
        this.section.querySelector(".two-step-qr").hidden = !drawQRCode(this.section.querySelector(".two-step-qr"), uri);
        this.show("setup");
        this.codeInput.focus();
        this.say("", false);
      } else if (this.next === "renew") {
        const { recovery_codes: codes } = await api.renewRecoveryCodes(password);
        await this.refreshState();
        this.showCodes(codes);
        this.say("New recovery codes made; the old ones no longer work.", false);
        this.onChanged();
      } else {
        await api.turnOffTwoStep(password);
        await this.load();
        this.onChanged();
        this.say("Two-step verification is off: your password alone signs you in.", false);
      }
    } catch (error) {
      this.say(error.message, true);
      this.passwordInput.select();
    }
  }

  async confirm() {
    try {
      const { recovery_codes: codes } = await api.confirmTwoStep(this.codeInput.value.trim());
      await this.refreshState();
      this.showCodes(codes);
      this.say("Two-step verification is on: signing in with your password asks for a code from now on.", false);
      this.onChanged();
    } catch (error) {
      this.say(error.message, true);
      this.codeInput.select();
    }
  }

  showCodes(codes) {
    this.codes = codes;
    this.section.querySelector(".recovery-codes").replaceChildren(
      ...codes.map((code) => Object.assign(document.createElement("li"), { textContent: code })));
    this.show("codes");
    this.section.querySelector(".two-step-codes-copy").textContent = "Copy";
    this.section.querySelector(".two-step-codes-done").focus();
  }

  get codesText() {
    return `Sluice recovery codes for ${this.account.user?.name ?? "you"} (${location.host}). Each works once.\n\n${this.codes.join("\n")}\n`;
  }

  async copyCodes() {
    try {
      await navigator.clipboard.writeText(this.codesText);
      this.section.querySelector(".two-step-codes-copy").textContent = "Copied";
    } catch {
      this.say("The browser did not let the page copy: select the codes and copy them yourself.", true);
    }
  }

  downloadCodes() {
    const link = Object.assign(document.createElement("a"), {
      href: URL.createObjectURL(new Blob([this.codesText], { type: "text/plain" })), download: "sluice-recovery-codes.txt",
    });
    link.click();
    setTimeout(() => URL.revokeObjectURL(link.href), 0);
  }
}
