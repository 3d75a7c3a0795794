// The user's password (account menu → Password): set one to sign in by name on any browser, or change it — the current
// one is asked for when there is one, and the server signs every other browser out — as does "Sign out of every other
// browser" without a change (ChatGPT's "Log out of all devices", this one kept). Below, each signed-in browser with its own
// Sign out (signed-in-browsers.js), above them two-step verification (two-step.js) and below them the recent security
// activity (security-log.js); between them, the account at the sign-in provider (single-sign-on.js).

import * as api from "./api.js";
import { SignedInBrowsers } from "./signed-in-browsers.js";
import { TwoStepSettings } from "./two-step.js";
import { SecurityLogList } from "./security-log.js";
import { ProviderConnection } from "./single-sign-on.js";

export class PasswordForm {
  /** `account`: whose `user.has_password` says whether the current password is asked for. */
  constructor({ button, form, account }) {
    Object.assign(this, { button, form, account });
    this.status = form.querySelector(".password-status");
    this.securityLog = new SecurityLogList({ section: form.querySelector(".security-log") });
    this.twoStep = new TwoStepSettings({
      section: form.querySelector(".two-step"), account, say: (text, failed) => this.say(text, failed),
      onChanged: () => this.securityLog.load(),
    });
    this.provider = new ProviderConnection({
      section: form.querySelector(".single-sign-on"), say: (text, failed) => this.say(text, failed),
      onChanged: () => this.securityLog.load(),
      onPasswordSignIn: (allowed) => this.showPasswordFields(allowed),
    });
    this.browsers = new SignedInBrowsers({ section: form.querySelector(".password-browsers"), say: (text, failed) => this.say(text, failed) });
    button.addEventListener("click", () => this.setOpen(form.hidden));
    form.querySelector(".password-cancel").addEventListener("click", () => this.setOpen(false));
    form.querySelector(".password-sign-out-others").addEventListener("click", () => this.signOutOthers());
    form.addEventListener("keydown", (event) => { if (event.key === "Escape") this.setOpen(false); });
    form.addEventListener("submit", (event) => { event.preventDefault(); this.save(); });
    // Another page of the account menu takes its place.
    document.getElementById("account-menu").addEventListener("click", (event) => {
      const item = event.target.closest("button");
      if (item && item !== button && !form.hidden) this.setOpen(false);
    });
  }

  setOpen(open) {
    this.form.hidden = !open;
    this.button.setAttribute("aria-expanded", String(open));
    this.form.reset();
    if (!open) return;
    this.say("", false);
    const hasPassword = Boolean(this.account.user?.has_password);
    this.form.querySelector(".password-current").hidden = !hasPassword;
    this.form.elements.current.required = hasPassword;
    (hasPassword ? this.form.elements.current : this.form.elements.password).focus();
    this.browsers.load();
    this.twoStep.load();
    this.provider.load();
    this.securityLog.load();
  }

  /** Hides the password's own fields and two-step verification where passwords do not sign in at all
   * (`serve --password-sign-in off`): the page keeps the provider, the browsers and the security log. */
  showPasswordFields(allowed) {
    for (const part of this.form.querySelectorAll(":scope > label, :scope > .password-help, button[type=submit], .two-step")) {
      if (!allowed) part.hidden = true;
      else if (!part.matches(".two-step, .password-current")) part.hidden = false;
    }
    this.form.elements.password.required = this.form.elements.again.required = allowed;
    if (!allowed) this.form.elements.current.required = false;
  }

  async save() {
    const { current, password, again } = this.form.elements;
    if (password.value !== again.value) {
      this.say("The two new passwords differ: type the same one twice.", true);
      again.select();
      return;
    }
    try {
      const { ended_sessions: ended } = await api.changePassword(password.value, this.account.user?.has_password ? current.value : null);
      if (this.account.user) this.account.user.has_password = true;
      this.form.reset();
      this.form.querySelector(".password-current").hidden = false;
      this.form.elements.current.required = true;
      const others = ended === 1 ? " 1 other browser was signed out." : ended > 1 ? ` ${ended} other browsers were signed out.` : "";
      this.say(`Saved: sign in with your name and this password from now on.${others}`, false);
      await Promise.all([this.browsers.load(), this.twoStep.load(), this.securityLog.load()]);
    } catch (error) {
      this.say(error.message, true);
    }
  }

  async signOutOthers() {
    try {
      const { ended_sessions: ended } = await api.endOtherSessions();
      this.say(ended === 0 ? "No other browser was signed in with your password."
        : `${ended === 1 ? "1 other browser was" : `${ended} other browsers were`} signed out; this one stays signed in.`, false);
      await Promise.all([this.browsers.load(), this.securityLog.load()]);
    } catch (error) {
      this.say(error.message, true);
    }
  }

  /** Says how it went: an error as an alert, so that a screen reader reads it at once. */
  say(text, failed) {
    this.status.setAttribute("role", failed ? "alert" : "status");
    this.status.classList.toggle("failed", failed);
    this.status.textContent = text;
  }
}
