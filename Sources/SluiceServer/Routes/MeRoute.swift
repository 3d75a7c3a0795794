import Foundation
import Hummingbird
import SluiceCore

/// `GET /api/me` → `{"id", "name", "plan", "created_at", "models", "admin", "has_password", "team"}`: whom the token
/// belongs to. The web app shows the
/// name in its sidebar (as ChatGPT and Open WebUI show who is signed in) and fills a saved prompt's `{{USER_NAME}}`
/// with it. `models`: the models the user may use, `null` for every model the server serves; `admin`: whether the user
/// manages the others (the web app then offers its Users page); `has_password`: whether the user may sign in with a
/// password (the web app then asks for the current one before changing it); `team`: the name of the user's team, or
/// `null` (its limits: `GET /api/usage/limits`).
struct MeRoute {
    let teams: any TeamStore

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("me", use: show)
    }

    struct Me: ResponseEncodable {
        let id: String
        let name: String
        let plan: Plan
        let createdAt: Date
        @ExplicitNull var models: [String]?
        let admin: Bool
        let hasPassword: Bool
        @ExplicitNull var team: String?

        init(_ user: User, team: String?) {
            id = user.id
            name = user.name
            plan = user.plan
            createdAt = user.createdAt
            models = user.allowedModels
            admin = user.isAdmin
            hasPassword = user.hasPassword
            self.team = team
        }
    }

    @Sendable func show(_ request: Request, context: SluiceRequestContext) async throws -> Me {
        let user = try context.requireUser()
        return Me(user, team: try await teams.teamName(userID: user.id))
    }
}
