// The sign-in view: a name and password (a session of this browser's own, `POST /api/sign-in`), or the token of a
// sign-in link pasted by hand. Either way the token goes where api.js keeps it and `onSignedIn` starts the page.

import * as api from "./api.js";

export class SignIn {
  constructor({ onSignedIn }) {
    this.onSignedIn = onSignedIn;
    this.form = document.getElementById("password-sign-in");
    this.error = this.form.querySelector(".sign-in-error");
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.withPassword(); });
    document.getElementById("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      api.setToken(document.getElementById("token-input").value.trim());
      this.onSignedIn();
    });
  }

  /** Clears what was typed and said when the view is shown again (after signing out). */
  reset() {
    this.form.reset();
    this.error.textContent = "";
  }

  async withPassword() {
    const button = this.form.querySelector("button[type=submit]");
    const password = document.getElementById("sign-in-password");
    this.error.textContent = "";
    button.disabled = true;
    try {
      const { token } = await api.signInWithPassword(document.getElementById("sign-in-name").value.trim(), password.value);
      api.setToken(token);
      this.reset();
      this.onSignedIn();
    } catch (error) {
      // Wrong, held back for a while, or suspended: the server's words say which and what to do.
      this.error.textContent = error.message;
      password.select();
    } finally {
      button.disabled = false;
    }
  }
}
