// The browser's notification when an answer ends while the user is in another tab or window (Open WebUI's
// "Notifications" setting): off until turned on in Personalize, which asks the browser for permission; kept in this
// browser. A click on the notification brings the page back.

const KEY = "sluice.notify";

export class AnswerNotifications {
  /** `checkbox`: Personalize's "Notify me" box; `showBanner(text)` says when the browser refuses. */
  constructor({ checkbox, showBanner }) {
    Object.assign(this, { checkbox, showBanner });
    checkbox.closest("label").hidden = !("Notification" in globalThis);
    checkbox.checked = this.enabled;
    checkbox.addEventListener("change", () => this.turn(checkbox.checked));
  }

  /** On, and allowed by the browser. */
  get enabled() {
    return localStorage.getItem(KEY) === "on" && "Notification" in globalThis && Notification.permission === "granted";
  }

  async turn(on) {
    if (!on) { localStorage.removeItem(KEY); return; }
    const permission = Notification.permission === "granted" ? "granted" : await Notification.requestPermission();
    if (permission !== "granted") {
      this.checkbox.checked = false;
      this.showBanner("The browser does not let Sluice show notifications: allow them in its settings for this site, then tick the box again.");
      return;
    }
    localStorage.setItem(KEY, "on");
  }

  /** An answer ended (`text`, in the conversation `title`): a notification, when the page is out of sight. */
  answered(text, title) {
    if (!this.enabled || !document.hidden) return;
    const line = text.trim().split("\n")[0] ?? "";
    const notification = new Notification(title || "Sluice", {
      body: line.length > 140 ? `${line.slice(0, 139)}…` : line || "The answer is ready.", tag: "sluice-answer",
    });
    notification.addEventListener("click", () => { globalThis.focus(); notification.close(); });
  }
}
