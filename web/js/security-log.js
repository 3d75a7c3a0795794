// The user's recent security activity (account menu → Password, below the browsers), as GitHub's security log and
// Google's "Recent security activity": each sign-in and refused one with the browser and address it came from, and
// each change to the password, two-step verification or signed-in browsers — so that a sign-in the user did not make,
// or wrong passwords tried on their name, can be seen and acted on (change the password, sign the browser out).

import * as api from "./api.js";
import { describeBrowser } from "./signed-in-browsers.js";

const WORDS = {
  signed_in: "Signed in",
  sign_in_refused: "Sign-in refused",
  password_changed: "Password changed",
  password_removed: "Password removed",
  two_step_on: "Two-step verification turned on",
  two_step_off: "Two-step verification turned off",
  recovery_codes_renewed: "New recovery codes made",
  signed_out_elsewhere: "Browsers signed out",
  provider_connected: "Single sign-on connected",
  provider_disconnected: "Single sign-on disconnected",
};

export class SecurityLogList {
  /** `section`: the list's place; `events()`: whose log — the user's own by default, another user's for an administrator. */
  constructor({ section, events = () => api.securityLog(20) }) {
    this.section = section;
    this.events = events;
    this.list = section.querySelector(".security-log-list");
  }

  async load() {
    let events;
    try {
      ({ events } = await this.events());
    } catch {
      this.section.hidden = true;
      return;
    }
    this.section.hidden = events.length === 0;
    this.list.replaceChildren(...events.map((event) => this.item(event)));
  }

  /** One event; what the browser sent is set as text. */
  item(event) {
    const item = document.createElement("li");
    item.className = `security-event ${event.kind}`;
    const what = Object.assign(document.createElement("span"), {
      className: "security-what", textContent: [WORDS[event.kind] ?? event.kind, event.detail].filter(Boolean).join(", "),
    });
    const from = event.user_agent || event.address
      ? [describeBrowser(event.user_agent), event.address].filter(Boolean).join(" · ") : null;
    const where = Object.assign(document.createElement("span"), {
      className: "security-detail",
      textContent: [from, new Date(event.at).toLocaleString()].filter(Boolean).join(" · "),
    });
    if (event.user_agent) where.title = event.user_agent;
    item.append(what, where);
    return item;
  }
}
