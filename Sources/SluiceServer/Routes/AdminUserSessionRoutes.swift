import Foundation
import Hummingbird
import SluiceCore
import SluiceStore

/// An administrator's view of a user's signed-in browsers, as the user's own Password page lists them:
/// `GET /api/admin/users/{name}/sessions` → `{"sessions": [...]}` (`current` marks the administrator's own, when they
/// look at themselves) and `DELETE /api/admin/users/{name}/sessions/{id}` signs one out (a sign-in the user does not
/// know, reported to the administrator). Signing all of them out is `AdminUserRoutes.signOutEverywhere`.
struct AdminUserSessionRoutes {
    let store: any ConversationStore
    let tokens: TokenCache
    let clients: ClientAddresses
    var securityLog: SecurityLog { SecurityLog(store: store, clients: clients) }

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("admin/users/:name/sessions", use: list)
        api.delete("admin/users/:name/sessions/:id", use: endOne)
    }

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let (_, user) = try await administratorAndUser(context)
        let own = AccessToken.hash(try AuthMiddleware.token(of: request))
        let sessions = try await store.sessions(userID: user.id).map { WireSession($0, current: $0.tokenHash == own) }
        return try AdminUserRoutes.json(["sessions": sessions])
    }

    @Sendable func endOne(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let (admin, user) = try await administratorAndUser(context)
        guard try await store.endSession(id: try context.parameters.require("id"), userID: user.id) else {
            throw APIError(
                .notFound, code: "session_not_found",
                message: "That browser is no longer signed in as \(user.name) (it signed out, or its sign-in expired). Reload the list.")
        }
        tokens.forget(userID: user.id)
        await AuditTrail(store: store, budgets: nil).record(
            .userSignedOut, on: AuditTarget(.user, user.name), by: .request(by: admin, request, context, clients: clients),
            changes: [.browsersSignedOut(1)])
        await securityLog.record(
            .signedOutElsewhere, for: user, request: request, context: context,
            detail: [AdminUserRoutes.byAdministrator(admin, of: user), AdminUserRoutes.browsers(1)].compactMap { $0 }.joined(separator: "; "))
        context.logger.notice("signed out a user's browser", metadata: ["by": "\(admin.name)", "user": "\(user.name)"])
        return Response(status: .noContent)
    }

    private func administratorAndUser(_ context: SluiceRequestContext) async throws -> (User, User) {
        let admin = try context.requireAdministrator(to: "manage users")
        return (admin, try await AdminUserRoutes.named(context, in: store))
    }
}
