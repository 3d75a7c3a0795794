// The sign-in view: a name and password (a session of this browser's own, `POST /api/sign-in`) — and, for a user with
// two-step verification on, the authenticator's code, asked for once the password is known right — or the token of a
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
    this.code = document.getElementById("sign-in-code");
    this.form.addEventListener("submit", (event) => { event.preventDefault(); this.submit(); });
    document.getElementById("sign-up-toggle").addEventListener("click", () => this.setSigningUp(!this.signingUp));
    document.getElementById("token-form").addEventListener("submit", (event) => {
      event.preventDefault();
      api.setToken(document.getElementById("token-input").value.trim());
      this.onSignedIn();
    });
  }

  /** Offers "Continue with …" when the server signs people in with an OpenID Connect provider; called when the view is
   * shown. */
  async offerSingleSignOn() {
    const box = document.querySelector("#sign-in .sso-sign-in");
    try {
      const { enabled, name, password_sign_in: passwords } = await api.singleSignOnOffer();
      box.querySelector(".sso-name").textContent = name || "single sign-on";
      box.hidden = !enabled;
      // Only the provider signs in here (`serve --password-sign-in off`): no name and password form to mislead.
      this.form.hidden = passwords === false;
      box.querySelector(".sso-or").hidden = passwords === false;
    } catch {
      box.hidden = true;
    }
  }

  /** What went wrong with a single sign-on that came back without a sign-in, and what to do (by the server's code). */
  static singleSignOnError(code) {
    const messages = {
      sso_cancelled: "The sign-in was cancelled at your provider. Continue again to sign in.",
      sso_restart: "That sign-in took too long or was started in another tab. Continue again from this page.",
      sso_unavailable: "Your sign-in provider could not be reached. Try again in a moment; if it keeps failing, tell your administrator.",
      sso_refused: "Your sign-in provider's answer did not pass Sluice's checks, so you were not signed in. Try again; if it keeps "
        + "failing, tell your administrator (the server's log says why).",
      sso_domain: "This server lets in only some of your provider's accounts (by their email address), and this one is not "
        + "among them. Sign in at your provider with your work account, or ask your administrator.",
      sso_taken: "That account at your provider already signs in to another account here, so it was not connected to "
        + "this one. Sign in at the provider with another account, or ask an administrator.",
      sso_no_account: "No account could be made for you: every name it could take is in use. Ask an administrator to make one.",
      sso_off: "This server does not sign in with a provider. Sign in with your name and password or a token.",
      account_pending: "Your account waits for an administrator's approval. Try again once they have approved it.",
      account_suspended: "This account was suspended by an administrator. Ask one to restore it; everything in it is kept.",
    };
    return messages[code] || "The sign-in did not work. Try again.";
  }

  /** Shows why the last single sign-on did not sign in. */
  showError(message) { this.error.textContent = message; }

  /** Offers "Create an account" when the server lets people make their own; called when the view is shown. */
  async offerSignUp() {
    try {
      const { mode } = await api.signUpMode();
      this.offer.hidden = mode === "off";
    } catch {
      this.offer.hidden = true;
    }
  }

  /** Shows (or hides and empties) the code field of two-step verification. */
  askForCode(asked) {
    this.form.querySelector(".sign-in-code").hidden = !asked;
    this.form.querySelector(".sign-in-code-help").hidden = !asked;
    this.code.required = asked;
    if (!asked) this.code.value = "";
  }

  setSigningUp(signingUp) {
    this.signingUp = signingUp;
    this.askForCode(false);
    this.error.textContent = "";
    document.querySelector("#sign-in .sign-in-title").textContent = signingUp ? "Create an account" : "Sign in";
    this.form.querySelector("button[type=submit]").textContent = signingUp ? "Create account" : "Sign in";
    document.getElementById("sign-in-password").autocomplete = signingUp ? "new-password" : "current-password";
    this.offer.querySelector(".sign-up-question").textContent = signingUp ? "Have an account?" : "New here?";
    document.getElementById("sign-up-toggle").textContent = signingUp ? "Sign in" : "Create an account";
    document.getElementById("sign-in-name").focus();
  }

  /** Sign-ins with the user's name refused since their last one: where to look, and what to do if it was not them. */
  static refusedNotice(count) {
    if (!count) return "";
    const tries = count === 1 ? "1 sign-in with your name was" : `${count} sign-ins with your name were`;
    return `${tries} refused since you last signed in (Password → Recent security activity says from where). `
      + "If it was not you, choose a stronger password and turn on two-step verification.";
  }

  /** After a sign-in with a recovery code: how many are left, and what to do when few are. */
  static recoveryNotice(left) {
    if (left === undefined || left === null) return "";
    const count = left === 1 ? "1 recovery code is" : `${left} recovery codes are`;
    return `You signed in with a recovery code; ${count} left. `
      + (left <= 3 ? "Make new ones under Account → Password → New recovery codes, or set your authenticator up again." : "");
  }

  async submit() {
    const button = this.form.querySelector("button[type=submit]");
    const name = document.getElementById("sign-in-name").value.trim();
    const password = document.getElementById("sign-in-password");
    this.error.textContent = this.note.textContent = "";
    button.disabled = true;
    try {
      const answer = this.signingUp ? await api.signUp(name, password.value)
        : await api.signInWithPassword(name, password.value, this.code.value.trim() || undefined);
      if (answer.pending) {
        // Made, and waiting: back to signing in, with the server's words on what happens next.
        this.setSigningUp(false);
        this.form.reset();
        this.note.textContent = answer.message;
        return;
      }
      api.setToken(answer.token);
      this.form.reset();
      this.askForCode(false);
      this.onSignedIn([SignIn.refusedNotice(answer.refused_since_last_sign_in), SignIn.recoveryNotice(answer.recovery_codes_left)]
        .filter(Boolean).join(" "));
    } catch (error) {
      // Wrong, held back for a while, waiting for approval, suspended, a name taken, a code asked for or refused: the
      // server's words say which.
      // A code asked for is no error: the field appears with its help (read out as the focus lands on it).
      this.error.textContent = error.code === "two_step_required" ? "" : error.message;
      if (error.code === "two_step_required" || error.code === "wrong_code" || error.code === "code_used") {
        this.askForCode(true);
        this.code.select();
      } else {
        password.select();
      }
    } finally {
      button.disabled = false;
    }
  }
}
