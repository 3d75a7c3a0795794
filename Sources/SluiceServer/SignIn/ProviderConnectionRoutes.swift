import Foundation
import Hummingbird
import SluiceCore
import SluiceOIDC

/// A signed-in user's own account at the sign-in provider (the Password page's "Single sign-on"), so that someone who
/// had a password before single sign-on was set up keeps their account rather than getting a new one:
/// - `GET /api/me/sign-in-provider` → `{"enabled", "name"?, "connected", "password_sign_in"}`;
/// - `POST /api/me/sign-in-provider` → `{"url"}`: the provider's authorization address for the browser to go to, the
///   attempt's cookie set and the request recorded under its state (`SingleSignOn.connectionKey`): the callback ties
///   the person who signs in there to this user (`sso_taken` when they are tied to another) and sends the browser to
///   `#sso=connected`;
/// - `DELETE /api/me/sign-in-provider` → 204 unties them, once the user has a password to sign in with (`409
///   password_needed` before; `409 password_sign_in_off` when passwords do not sign in here at all).
/// An API key may do none of these.
struct ProviderConnectionRoutes {
    let store: any ConversationStore
    let singleSignOn: SingleSignOn?
    let clients: ClientAddresses
    /// Whether a name and password sign in (`--password-sign-in`): off, nothing would sign a disconnected user in.
    var passwordSignIn = true
    var securityLog: SecurityLog { SecurityLog(store: store, clients: clients) }

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("me/sign-in-provider", use: state)
        api.post("me/sign-in-provider", use: connect)
        api.delete("me/sign-in-provider", use: disconnect)
    }

    struct State: Encodable {
        let enabled: Bool
        let name: String?
        let connected: Bool
        /// Whether a name and password sign in too (the Password page hides its password fields when not).
        let passwordSignIn: Bool
    }

    @Sendable func state(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try userWithoutKey(context)
        guard let singleSignOn else {
            return try AdminUserRoutes.json(State(enabled: false, name: nil, connected: false, passwordSignIn: passwordSignIn))
        }
        let connected = try await store.identityIssuers(userID: user.id).contains(where: singleSignOn.isProvider)
        return try AdminUserRoutes.json(State(
            enabled: true, name: singleSignOn.client.settings.displayName, connected: connected, passwordSignIn: passwordSignIn))
    }

    @Sendable func connect(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try userWithoutKey(context)
        let singleSignOn = try configured()
        let attempt = AuthorizationAttempt.new(connecting: user.id)
        let url: String
        do {
            url = try await singleSignOn.client.authorizationURL(for: attempt)
        } catch {
            context.logger.error("single sign-on could not start", metadata: ["error": "\(error)"])
            throw APIError(
                .badGateway, code: "sso_unavailable",
                message: "Your sign-in provider could not be reached. Try again in a moment; if it keeps failing, tell your administrator.")
        }
        let now = Date()
        try await store.recordAttempt(
            kind: SingleSignOn.connectionKind, key: SingleSignOn.connectionKey(state: attempt.state, userID: user.id), at: now,
            forgettingBefore: now.addingTimeInterval(-SingleSignOnRoutes.attemptLifetime))
        var response = try AdminUserRoutes.json(["url": url])
        response.headers[.cacheControl] = "no-store"
        response.setCookie(SingleSignOnRoutes.cookie(attempt.cookieValue, maxAge: Int(SingleSignOnRoutes.attemptLifetime), for: singleSignOn))
        return response
    }

    @Sendable func disconnect(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try userWithoutKey(context)
        let singleSignOn = try configured()
        guard passwordSignIn else {
            throw APIError(
                .conflict, code: "password_sign_in_off",
                message: "This server signs people in only with its sign-in provider: disconnected, nothing would sign you in.")
        }
        guard user.hasPassword else {
            throw APIError(
                .conflict, code: "password_needed",
                message: "Set a password first: without one, nothing would sign you in once single sign-on is disconnected.")
        }
        var untied = 0
        for issuer in try await store.identityIssuers(userID: user.id) where singleSignOn.isProvider(issuer) {
            untied += try await store.unlinkIdentities(userID: user.id, issuer: issuer)
        }
        if untied > 0 {
            await securityLog.record(
                .providerDisconnected, for: user, request: request, context: context, detail: singleSignOn.client.settings.displayName)
            context.logger.notice("single sign-on disconnected", metadata: ["user": "\(user.name)"])
        }
        return Response(status: .noContent)
    }

    private func configured() throws -> SingleSignOn {
        guard let singleSignOn else {
            throw APIError(.notFound, code: "sso_off", message: "This server does not sign in with a provider.")
        }
        return singleSignOn
    }

    private func userWithoutKey(_ context: SluiceRequestContext) throws -> User {
        let user = try context.requireUser()
        guard context.apiKey == nil else {
            throw APIError(
                .forbidden, code: "key_cannot_connect",
                message: "An API key cannot change how its user signs in. Do that from the web app, signed in.")
        }
        return user
    }
}
