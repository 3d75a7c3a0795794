import Hummingbird
import SluiceCore

/// `/healthz` (the process is up) and `/readyz` (the store answers, and so does at least one model's upstream, and
/// Sluice has not been asked to stop).
struct HealthRoutes {
    let store: any ConversationStore
    let provider: any ChatProvider
    let hub: GenerationHub
    /// The name `/readyz` gives the upstream of models without a route of their own.
    let defaultModel: String

    func register(on router: Router<SluiceRequestContext>) {
        router.get("healthz") { _, _ in
            Self.json(.ok, "{\"status\":\"ok\",\"active_generations\":\(hub.runningCount)}")
        }
        router.get("readyz") { _, _ in
            // Asked to stop: a load balancer should send nothing new here while the running answers finish.
            if hub.drain?.hasBegun == true {
                return Self.json(.serviceUnavailable, "{\"status\":\"draining\",\"active_generations\":\(hub.runningCount)}")
            }
            // The store and every upstream are checked at once: the answer comes within one check's timeout.
            async let upstreams = provider.readiness(named: defaultModel)
            var problems: [String] = []
            do { try await store.ping() } catch { problems.append("store: \(error)") }
            let checked = await upstreams
            // One model's upstream being down takes that model out, not the instance: its turns say so or fall back,
            // and everything else (the other models, history, usage) still works.
            if !checked.contains(where: \.isReady) {
                problems += checked.map { "upstream \($0.name): \($0.problem ?? "")" }
            }
            let status = problems.isEmpty ? "ready" : "not_ready"
            var body = "{\"status\":\"\(status)\",\"upstreams\":[\(checked.map(Self.upstream).joined(separator: ","))]"
            if !problems.isEmpty {
                body += ",\"problems\":[\(problems.map { JSONText.quote(String($0.prefix(300))) }.joined(separator: ","))]"
            }
            return Self.json(problems.isEmpty ? .ok : .serviceUnavailable, body + "}")
        }
    }

    /// `{"name", "ready", "circuit"?, "problem"?}`.
    static func upstream(_ upstream: UpstreamReadiness) -> String {
        "{\"name\":\(JSONText.quote(upstream.name)),\"ready\":\(upstream.isReady)"
            + (upstream.circuit.map { ",\"circuit\":\"\($0)\"" } ?? "")
            + (upstream.problem.map { ",\"problem\":\(JSONText.quote(String($0.prefix(300))))" } ?? "") + "}"
    }

    static func json(_ status: HTTPResponse.Status, _ body: String) -> Response {
        Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: body)))
    }
}
