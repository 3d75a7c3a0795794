// The page's theme — the system's (light or dark, as it changes), or light or dark chosen in Personalize — applied
// before the page is drawn, so that it never flashes the other one. Kept in this browser (`sluice.theme`), as
// ChatGPT keeps its theme per device. A classic script in <head>: app.js calls `sluiceTheme.set` when it changes.
(() => {
  const KEY = "sluice.theme";
  function apply(theme) {
    const root = document.documentElement;
    if (theme === "light" || theme === "dark") root.dataset.theme = theme;
    else delete root.dataset.theme;
    // highlight.js's two stylesheets follow the same choice.
    for (const [scheme, other] of [["light", "dark"], ["dark", "light"]]) {
      const sheet = document.querySelector(`link[data-highlight="${scheme}"]`);
      if (sheet) sheet.media = theme === scheme ? "all" : theme === other ? "not all" : `(prefers-color-scheme: ${scheme})`;
    }
  }
  globalThis.sluiceTheme = {
    /** "system", "light" or "dark". */
    get: () => localStorage.getItem(KEY) ?? "system",
    set(theme) {
      if (theme === "light" || theme === "dark") localStorage.setItem(KEY, theme);
      else localStorage.removeItem(KEY);
      apply(theme);
    },
  };
  apply(globalThis.sluiceTheme.get());
})();
