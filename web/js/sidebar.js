// The sidebar: shown over the page by the menu button on narrow screens (closed again by choosing a conversation, or
// Esc), and its search box, which searches the conversations as one types (Esc clears it).

/** Binds the sidebar; returns `setSidebar(open)` and `focusSearch()` for the keyboard shortcuts. */
export function bindSidebar({ sidebar, menu, searchBox, conversationList, showBanner }) {
  const setSidebar = (open) => {
    sidebar.classList.toggle("open", open);
    menu.setAttribute("aria-expanded", String(open));
  };
  menu.addEventListener("click", () => setSidebar(!sidebar.classList.contains("open")));
  // Choosing a conversation (or starting one) closes the overlay on narrow screens; acting on one in the list does not.
  sidebar.addEventListener("click", (event) => {
    const keepsOpen = ".conversation-name, .conversation-more, .move-choice, .project-open, .archived-toggle, .archived-back, .account-button";
    if (event.target.closest("button") && !event.target.closest(keepsOpen)) setSidebar(false);
  });
  document.addEventListener("keydown", (event) => { if (event.key === "Escape" && sidebar.classList.contains("open")) setSidebar(false); });

  let searchTimer = null;
  searchBox.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => conversationList.search(searchBox.value).catch((error) => showBanner(error.message)), 250);
  });
  searchBox.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && searchBox.value) {
      event.stopPropagation();
      searchBox.value = "";
      conversationList.search("").catch((error) => showBanner(error.message));
    }
  });
  const focusSearch = () => { setSidebar(true); searchBox.focus(); searchBox.select(); };
  return { setSidebar, focusSearch };
}
