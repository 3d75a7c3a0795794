// The sign-in view: a name and password (a session of this browser's own, `POST /api/sign-in`), or the token of a
// sign-in link pasted by hand; and, when the server lets people make their own accounts (`serve --sign-up`), the same
// form makes one — signed in at once, or told that it waits for an administrator's approval. Either way the token goes
// where api.js keeps it and `onSignedIn` starts the page.

import * as api from "./api.js";

export class SignIn {
  constructor({ onSignedIn }) {
    this.onSignedIn = onSignedIn;
    this.form = document.getElementById("password-sign-in");
    this.error = this.form.querySelector(".sign-in-error");
    this.note = this.form.querySelector(".sign-in-note");
    this.offer = document.querySelector("#sign-in .sign-up-offer");
    this.signingUp = false;
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    document.getElementById("sign-up-toggle").addEventListener("click", () => this.setSigningUp(!this.signingUp));
    document.getElementById("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      api.setToken(document.getElementById("token-input").value.trim());
      this.onSignedIn();
    });
  }

  /** Offers "Create an account" when the server lets people make their own; called when the view is shown. */
  async offerSignUp() {
    try {
      const { mode } = await api.signUpMode();
      this.offer.hidden = mode === "off";
    } catch {
      this.offer.hidden = true;
    }
  }

  setSigningUp(signingUp) {
    this.signingUp = signingUp;
    this.error.textContent = "";
    document.querySelector("#sign-in .sign-in-title").textContent = signingUp ? "Create an account" : "Sign in";
    this.form.querySelector("button[type=submit]").textContent = signingUp ? "Create account" : "Sign in";
    document.getElementById("sign-in-password").autocomplete = signingUp ? "new-password" : "current-password";
    this.offer.querySelector(".sign-up-question").textContent = signingUp ? "Have an account?" : "New here?";
    document.getElementById("sign-up-toggle").textContent = signingUp ? "Sign in" : "Create an account";
    document.getElementById("sign-in-name").focus();
  }

  async submit() {
    const button = this.form.querySelector("button[type=submit]");
    const name = document.getElementById("sign-in-name").value.trim();
    const password = document.getElementById("sign-in-password");
    this.error.textContent = this.note.textContent = "";
    button.disabled = true;
    try {
      const answer = this.signingUp ? await api.signUp(name, password.value) : await api.signInWithPassword(name, password.value);
      if (answer.pending) {
        // Made, and waiting: back to signing in, with the server's words on what happens next.
        this.setSigningUp(false);
        this.form.reset();
        this.note.textContent = answer.message;
        return;
      }
      api.setToken(answer.token);
      this.form.reset();
      this.onSignedIn();
    } catch (error) {
      // Wrong, held back for a while, waiting for approval, suspended, a name taken: the server's words say which.
      this.error.textContent = error.message;
      password.select();
    } finally {
      button.disabled = false;
    }
  }
}
