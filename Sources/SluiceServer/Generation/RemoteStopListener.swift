import Logging
import ServiceLifecycle
import SluiceCore

/// Stops the generations this instance runs when the user's stop reached another instance on the same database
/// (`StopRequestStore`: that instance recorded it), as `POST /api/messages/{id}/cancel` here would have.
struct RemoteStopListener: Service {
    let store: any ConversationStore
    let hub: GenerationHub
    let logger: Logger

    func run() async {
        // Until shutdown begins: the hub then stops every generation still running anyway.
        await cancelWhenGracefulShutdown { [store, hub, logger] in
            await store.watchStopRequests { messageIDs in
                for id in messageIDs where hub.cancel(id) {
                    logger.info("stopping an answer at another instance's request", metadata: ["message": "\(id)"])
                }
            }
        }
    }
}
