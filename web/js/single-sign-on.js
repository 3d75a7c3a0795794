// The user's account at the sign-in provider (account menu → Password → Single sign-on), when the server signs in with
// one (`serve --oidc-issuer`): Connect sends the browser to the provider and back, after which that account signs the
// user in — so that someone who had a password before keeps their account instead of getting a new one — and
// Disconnect unties it, once a password can sign them in instead.

import * as api from "./api.js";

export class ProviderConnection {
  /** `section`: its place on the Password page; `say(text, failed)`: the page's status line. */
  /** `onPasswordSignIn(allowed)`: told whether passwords sign in on this server at all. */
  constructor({ section, say, onChanged, onPasswordSignIn }) {
    Object.assign(this, { section, say, onChanged, onPasswordSignIn });
    this.state = section.querySelector(".sso-state");
    this.connectButton = section.querySelector(".sso-connect");
    this.disconnectButton = section.querySelector(".sso-disconnect");
    this.connectButton.addEventListener("click", () => this.connect());
    this.disconnectButton.addEventListener("click", () => this.disconnect());
  }

  async load() {
    let state;
    try {
      state = await api.signInProvider();
    } catch {
      this.section.hidden = true;
      return;
    }
    this.section.hidden = !state.enabled;
    this.onPasswordSignIn?.(state.password_sign_in !== false);
    if (!state.enabled) return;
    this.state.textContent = state.connected
      ? `Your ${state.name} account signs you in here.`
      : `Connect your ${state.name} account to sign in with it; this account and everything in it stay as they are.`;
    this.connectButton.textContent = `Connect ${state.name}`;
    this.connectButton.hidden = state.connected;
    // Where only the provider signs in, disconnecting would lock the user out.
    this.disconnectButton.hidden = !state.connected || state.password_sign_in === false;
  }

  async connect() {
    try {
      const { url } = await api.connectSignInProvider();
      location.assign(url);
    } catch (error) {
      this.say(error.message, true);
    }
  }

  async disconnect() {
    try {
      await api.disconnectSignInProvider();
      this.say("Disconnected: sign in with your name and password from now on.", false);
      await this.load();
      this.onChanged?.();
    } catch (error) {
      this.say(error.message, true);
    }
  }
}
