// Who is signed in and this browser's own preferences: the user named at the foot of the sidebar, a button that opens
// the account menu (its pages, the data controls, and Sign out, which forgets everything the page kept here), the
// theme (theme.js applies it before the page is drawn), and the notification when an answer ends out of sight
// (notifications.js).

import * as api from "./api.js";
import { offerMenu } from "./menu.js";
import { AnswerNotifications } from "./notifications.js";

export class Account {
  constructor({ showBanner }) {
    /** The signed-in user (`GET /api/me`), once the page has started. */
    this.user = null;
    this.box = document.getElementById("account");
    document.getElementById("sign-out").addEventListener("click", async () => {
      // A session from a password ends on the server too; a sign-in link's token stays good (the link signs in again).
      try { await api.endSession(); } catch { /* signed out of this browser all the same */ }
      api.signOut();
      location.replace(location.pathname);
    });
    const theme = document.getElementById("theme-select");
    theme.value = globalThis.sluiceTheme?.get() ?? "system";
    theme.addEventListener("change", () => globalThis.sluiceTheme?.set(theme.value));
    this.notifications = new AnswerNotifications({ checkbox: document.getElementById("notify-answers"), showBanner });
    offerMenu(document.getElementById("account-menu-button"), document.getElementById("account-menu"));
  }

  /** Names `user` at the foot of the sidebar. */
  signedIn(user) {
    this.user = user;
    document.getElementById("account-name").textContent = user.name;
    document.getElementById("account-avatar").textContent = [...user.name.trim()][0] ?? "?";
    // Administrators manage the other users; the server refuses that page's requests to anyone else.
    document.getElementById("users-open").hidden = !user.admin;
    document.querySelector("#usage-page .usage-scope-label").hidden = !user.admin;
    this.box.hidden = false;
  }

  signedOut() {
    this.box.hidden = true;
    document.getElementById("account-menu").hidden = true;
    document.getElementById("account-menu-button").setAttribute("aria-expanded", "false");
  }

  /** An answer of the open conversation ended as it should (`text`): a notification, when the page is out of sight. */
  answered(text) {
    const title = document.querySelector('#conversation-list .conversation-open[aria-current="true"]')?.textContent;
    this.notifications.answered(text, title);
  }
}
