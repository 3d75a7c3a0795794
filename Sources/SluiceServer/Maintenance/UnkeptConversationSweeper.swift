import Foundation
import Logging
import ServiceLifecycle
import SluiceCore

/// Deletes, every `interval`, the unkept conversations that lapsed (`ConversationStore.deleteLapsedUnkept`): a
/// temporary chat its user left without the page saying so (a closed laptop, a lost connection), a `store: false`
/// turn whose end never ran. Without it such a conversation — out of every list, but still stored — would wait for
/// the next start of Sluice.
struct UnkeptConversationSweeper: Service {
    let store: any ConversationStore
    let interval: Duration
    let logger: Logger

    func run() async {
        await periodically(every: interval) {
            do {
                let deleted = try await store.deleteLapsedUnkept(now: Date())
                if deleted > 0 { logger.info("deleted lapsed temporary conversations", metadata: ["count": "\(deleted)"]) }
            } catch {
                logger.warning("could not delete lapsed temporary conversations", metadata: ["error": "\(error)"])
            }
        }
    }
}
