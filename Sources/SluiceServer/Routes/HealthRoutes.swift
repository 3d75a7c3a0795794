import Hummingbird
import SluiceCore

/// `/healthz` (the process is up) and `/readyz` (the store and the upstream answer).
struct HealthRoutes {
    let store: any ConversationStore
    let provider: any ChatProvider
    let hub: GenerationHub

    func register(on router: Router<SluiceRequestContext>) {
        router.get("healthz") { _, _ in
            Self.json(.ok, "{\"status\":\"ok\",\"active_generations\":\(hub.runningCount)}")
        }
        router.get("readyz") { _, _ in
            var problems: [String] = []
            do { try await store.ping() } catch { problems.append("store: \(error)") }
            do { try await provider.checkReady() } catch { problems.append("upstream: \(error)") }
            if problems.isEmpty { return Self.json(.ok, "{\"status\":\"ready\"}") }
            let list = problems.map { JSONText.quote(String($0.prefix(300))) }.joined(separator: ",")
            return Self.json(.serviceUnavailable, "{\"status\":\"not_ready\",\"problems\":[\(list)]}")
        }
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
