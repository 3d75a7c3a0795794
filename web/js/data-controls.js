// ChatGPT's "Export data", "Archive all chats" and "Delete all chats" (its Data controls), at the foot of the sidebar:
// the export downloads every conversation in one file; the others ask first, say how many they changed, and hand
// over to the page (the open conversation is archived or gone).

import * as api from "./api.js";
import { exportAllConversations } from "./export.js";

export function offerDataControls({ exportButton, archiveButton, deleteButton, showBanner, onArchived, onDeleted }) {
  exportButton.addEventListener("click", async () => {
    exportButton.disabled = true;
    try {
      const { name, count } = await exportAllConversations((done, total) => showBanner(`Exporting your conversations: ${done} of ${total}…`));
      showBanner(`${count} conversation${count === 1 ? "" : "s"} exported to ${name}. Import conversations… reads the file back, here or on another Sluice.`);
    } catch (error) {
      showBanner(`The export stopped: ${error.message}`);
    } finally {
      exportButton.disabled = false;
    }
  });
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
