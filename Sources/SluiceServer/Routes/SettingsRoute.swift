import Hummingbird
import SluiceCore

/// `GET /api/me/settings` → `{"auto_titles": true, "memory": true}` and `PATCH /api/me/settings` `{"auto_titles": false}`: the user's
/// own settings, kept with the user so that every browser they sign in from follows them (Open WebUI keeps its
/// settings per user too). `auto_titles`: whether the web app has the title model name a conversation by itself after
/// its first answer (on by default; a call the web app makes with `?automatic=true` is refused while it is off, and
/// ✨ still asks for a title by hand). `memory`: whether their web conversations read their memories (`MemoryRoutes`)
/// and a message that begins "Remember that …" saves one (on by default; off keeps the memories, unused, as ChatGPT's
/// "Reference saved memories").
struct SettingsRoute {
    let store: any ConversationStore

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("me/settings", use: show)
        api.patch("me/settings", use: update)
    }

    struct Settings: ResponseEncodable {
        let autoTitles: Bool
        let memory: Bool
    }

    @Sendable func show(_ request: Request, context: SluiceRequestContext) async throws -> Settings {
        try await settings(of: try context.requireUser())
    }

    private func settings(of user: User) async throws -> Settings {
        Settings(autoTitles: try await store.autoTitles(userID: user.id), memory: try await store.memoryEnabled(userID: user.id))
    }

    @Sendable func update(_ request: Request, context: SluiceRequestContext) async throws -> Settings {
        let user = try context.requireUser()
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        try body.rejectingUnknownFields(["auto_titles", "memory"]) {
            "'\($0)' is not a setting. Send {\"auto_titles\": true or false} or {\"memory\": true or false}."
        }
        if let autoTitles = try body.optionalBool("auto_titles") {
            try await store.setAutoTitles(userID: user.id, enabled: autoTitles)
        }
        if let memory = try body.optionalBool("memory") {
            try await store.setMemoryEnabled(userID: user.id, enabled: memory)
        }
        return try await settings(of: user)
    }
}
