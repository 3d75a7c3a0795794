// ChatGPT's "Archive all chats" and "Delete all chats" (its Data controls), at the foot of the sidebar: each asks
// first, says how many it changed, and hands over to the page (the open conversation is archived or gone).

import * as api from "./api.js";

export function offerDataControls({ archiveButton, deleteButton, showBanner, onArchived, onDeleted }) {
  archiveButton.addEventListener("click", async () => {
    if (!confirm("Archive all your conversations? They leave the list and can be read under Archived conversations, and brought back one by one.")) return;
    try {
      const { archived } = await api.archiveAllConversations();
      showBanner(`${archived} conversation${archived === 1 ? "" : "s"} archived.`);
      await onArchived();
    } catch (error) {
      showBanner(error.message);
    }
  });
  deleteButton.addEventListener("click", async () => {
    if (!confirm("Delete all your conversations, archived ones too, with every message? This cannot be undone. (Your projects, prompts and usage stay.)")) return;
    try {
      const { deleted } = await api.deleteAllConversations();
      showBanner(`${deleted} conversation${deleted === 1 ? "" : "s"} deleted.`);
      await onDeleted();
    } catch (error) {
      showBanner(error.message);
    }
  });
}
