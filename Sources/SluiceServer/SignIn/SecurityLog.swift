import Foundation
import Hummingbird
import Logging
import SluiceCore

/// Writes each user's security log (`SecurityEvent`) as sign-ins, password and two-step changes happen, and shows it:
/// `GET /api/me/security-log` → `{"events": [{"id", "kind", "at", "user_agent", "address", "detail"}]}`, the newest
/// first (`?limit=`, 1–200, 50 by default), on the Password page as GitHub's security log; an administrator reads a
/// user's with `GET /api/admin/users/{name}/security-log`. Events are kept for `retention`.
public struct SecurityLog: Sendable {
    let store: any ConversationStore
    let clients: ClientAddresses
    public static let retention: TimeInterval = 90 * 86_400

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("me/security-log", use: own)
        api.get("admin/users/:name/security-log", use: someones)
    }

    /// Adds `kind` to `user`'s log, from where `request` came. A write that fails is logged, not thrown: what it
    /// records has happened already, and the person who did it should hear that it did.
    func record(
        _ kind: SecurityEvent.Kind, for user: User, request: Request, context: SluiceRequestContext, detail: String? = nil
    ) async {
        await record(kind, userID: user.id, origin: SignInRoutes.origin(of: request, context: context, clients: clients),
                     detail: detail, logger: context.logger)
    }

    func record(_ kind: SecurityEvent.Kind, userID: String, origin: SessionOrigin, detail: String?, logger: Logger) async {
        let now = Date()
        let event = SecurityEvent(id: Identifier.make(), userID: userID, kind: kind, at: now, origin: origin, detail: detail)
        do {
            try await store.recordSecurityEvent(event, forgettingBefore: now.addingTimeInterval(-Self.retention))
        } catch {
            logger.warning("security log not written", metadata: ["kind": "\(kind.rawValue)", "error": "\(error)"])
        }
    }

    @Sendable func own(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        guard context.apiKey == nil else {
            throw APIError(
                .forbidden, code: "key_cannot_see_security_log",
                message: "An API key cannot read its user's security log. Read it from the web app, signed in.")
        }
        return try await events(of: user, request: request)
    }

    @Sendable func someones(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        _ = try context.requireAdministrator(to: "read users' security logs")
        return try await events(of: try await AdminUserRoutes.named(context, in: store), request: request)
    }

    private func events(of user: User, request: Request) async throws -> Response {
        let limit = try request.uri.queryParameters.get("limit").map { text in
            guard let value = Int(text), (1...200).contains(value) else {
                throw APIError.invalid("'limit' must be a whole number from 1 to 200.")
            }
            return value
        } ?? 50
        let events = try await store.securityEvents(userID: user.id, limit: limit).map(WireSecurityEvent.init)
        return try AdminUserRoutes.json(["events": events])
    }
}

/// A security log's event as the API shows it.
struct WireSecurityEvent: Encodable {
    let id: String
    let kind: String
    let at: Date
    let userAgent: String?
    let address: String?
    let detail: String?

    init(_ event: SecurityEvent) {
        id = event.id
        kind = event.kind.rawValue
        at = event.at
        userAgent = event.origin.userAgent
        address = event.origin.address
        detail = event.detail
    }
}
