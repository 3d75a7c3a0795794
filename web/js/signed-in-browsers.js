// The browsers signed in with the user's password (account menu → Password), as GitHub's "Sessions" lists them: which
// browser on which system, from which address, since when — this one marked — each with its own Sign out, so that a
// sign-in the user does not know (or one long unused) can be ended without signing out everywhere.

import * as api from "./api.js";

/** "Firefox on Linux" from a User-Agent; what cannot be told apart is said plainly. */
export function describeBrowser(userAgent) {
  if (!userAgent) return "An unknown browser";
  const ua = userAgent;
  const browser = [
    [/Edg(e|A|iOS)?\//, "Edge"], [/OPR\/|Opera/, "Opera"], [/Firefox\/|FxiOS\//, "Firefox"],
    [/HeadlessChrome\//, "Headless Chrome"], [/Chrome\/|CriOS\/|Chromium\//, "Chrome"],
    [/Version\/[\d.]+.*Safari\//, "Safari"], [/^curl\//, "curl"], [/python-(requests|httpx)|aiohttp/i, "A Python script"],
  ].find(([pattern]) => pattern.test(ua))?.[1];
  const system = [
    [/Windows/, "Windows"], [/Android/, "Android"], [/iPhone|iPad|iPod/, "iOS"], [/CrOS/, "ChromeOS"],
    [/Mac OS X|Macintosh/, "macOS"], [/Linux|X11/, "Linux"],
  ].find(([pattern]) => pattern.test(ua))?.[1];
  const name = browser ?? (ua.split(/[/\s]/)[0] || "An unknown browser");
  return system ? `${name} on ${system}` : name;
}

const relative = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/** "active 3 hours ago": the server writes a browser's use down every few minutes, so closer than that is "just now". */
export function lastActive(iso, now = Date.now()) {
  const seconds = (now - new Date(iso).getTime()) / 1000;
  if (seconds < 600) return "active just now";
  for (const [unit, size] of [["day", 86_400], ["hour", 3_600], ["minute", 60]]) {
    if (seconds >= size) return `active ${relative.format(-Math.floor(seconds / size), unit)}`;
  }
  return "active just now";
}

export class SignedInBrowsers {
  /** `section`: the list's place; `say(text, failed)`: the page's status line; `source`: whose browsers — the user's
   * own by default, or another user's for an administrator (`{list(), end(id)}`). */
  constructor({ section, say, source = { list: api.listSessions, end: api.endSessionById } }) {
    Object.assign(this, { section, say, source });
    this.list = section.querySelector(".browsers-list");
    this.empty = section.querySelector(".browsers-empty");
  }

  async load() {
    let sessions;
    try {
      ({ sessions } = await this.source.list());
    } catch (error) {
      this.section.hidden = true;
      this.say(error.message, true);
      return;
    }
    this.section.hidden = false;
    this.empty.hidden = sessions.length > 0;
    this.list.replaceChildren(...sessions.map((session) => this.item(session)));
  }

  /** One browser; what it sent is set as text. */
  item(session) {
    const item = document.createElement("li");
    item.dataset.id = session.id;
    const name = Object.assign(document.createElement("span"), { className: "browser-name", textContent: describeBrowser(session.user_agent) });
    if (session.user_agent) name.title = session.user_agent;
    const since = new Date(session.created_at).toLocaleString();
    const detail = Object.assign(document.createElement("span"), {
      className: "browser-detail",
      textContent: [session.address ?? "an unknown address", `signed in ${since}`, !session.current && lastActive(session.last_active_at)]
        .filter(Boolean).join(" · "),
    });
    item.append(name, detail);
    if (session.current) {
      item.classList.add("current");
      item.append(Object.assign(document.createElement("span"), { className: "browser-current", textContent: "this browser" }));
    } else {
      const button = Object.assign(document.createElement("button"), { type: "button", textContent: "Sign out" });
      button.setAttribute("aria-label", `Sign out ${name.textContent}, signed in ${since}`);
      button.addEventListener("click", () => this.signOut(session, name.textContent));
      item.append(button);
    }
    return item;
  }

  async signOut(session, name) {
    try {
      await this.source.end(session.id);
      this.say(`${name} is signed out.`, false);
    } catch (error) {
      this.say(error.message, true);
    }
    await this.load();
  }
}
