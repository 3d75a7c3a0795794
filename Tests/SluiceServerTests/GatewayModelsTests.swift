import Foundation
import Testing

@Suite("Gateway models: GET /v1/models and /v1/models/{model}")
struct GatewayModelsTests {
    @Test("the served models are listed with the default first, and each can be retrieved, slashes and all")
    func listAndRetrieve() async throws {
        try await Harness.run(listedModels: ["openai/gpt-4o", "sim"]) { h in
            let list = try await h.request(.GET, "/v1/models", token: h.alice)
            let ids = (list.json?["data"] as? [[String: Any]])?.compactMap { $0["id"] as? String }
            #expect(ids == ["sim", "openai/gpt-4o"])
            for path in ["sim", "openai/gpt-4o", "openai%2Fgpt-4o"] {
                let model = try await h.request(.GET, "/v1/models/\(path)", token: h.alice)
                #expect(model.status == 200, "\(path)")
                #expect(model.json?["object"] as? String == "model")
                #expect(model.json?["id"] as? String == (path == "sim" ? "sim" : "openai/gpt-4o"))
            }
            let missing = try await h.request(.GET, "/v1/models/gpt-9", token: h.alice)
            #expect(missing.status == 404)
            #expect((missing.json?["error"] as? [String: Any])?["code"] as? String == "model_not_found")
            #expect(try await h.request(.GET, "/v1/models/sim", token: nil).status == 401)
        }
    }
}
