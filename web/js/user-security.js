// An administrator's look at one user's sign-in (Users page → a user's "Security"): the browsers signed in as them,
// each with its own Sign out, and their recent security activity — what the user sees on their own Password page —
// for when someone reports a sign-in they did not make, or wrong passwords tried on their name.

import * as api from "./api.js";
import { SignedInBrowsers } from "./signed-in-browsers.js";
import { SecurityLogList } from "./security-log.js";

export class UserSecurityPanel {
  /** `panel`: the Users page's security section; `say(text)`: the page's status line. */
  constructor({ panel, say }) {
    this.panel = panel;
    this.say = say;
    panel.querySelector(".user-security-close").addEventListener("click", () => this.close());
    panel.addEventListener("keydown", (event) => { if (event.key === "Escape") this.close(); });
  }

  async open(name) {
    this.panel.querySelector(".user-security-name").textContent = `${name}'s sign-in`;
    const browsers = new SignedInBrowsers({
      section: this.panel.querySelector(".password-browsers"), say: (text) => this.say(text),
      source: { list: () => api.userSessions(name), end: (id) => api.endUserSession(name, id) },
    });
    const log = new SecurityLogList({ section: this.panel.querySelector(".security-log"), events: () => api.userSecurityLog(name, 50) });
    this.panel.hidden = false;
    await Promise.all([browsers.load(), log.load()]);
    this.panel.querySelector(".security-log-empty").hidden = !this.panel.querySelector(".security-log").hidden;
    this.panel.querySelector(".user-security-close").focus();
  }

  close() {
    this.panel.hidden = true;
  }
}
