import Foundation
import Hummingbird
import SluiceCore
import SluiceOIDC
import SluiceStore

/// Signing in with an OpenID Connect provider, as Open WebUI's "Continue with …" and LiteLLM's SSO do (the
/// authorization code flow with PKCE; `SingleSignOn`):
/// - `GET /api/sign-in/oidc` → `{"enabled", "name"?, "password_sign_in"}`: whether the sign-in page offers the button, its
///   provider's name, and whether it shows the name and password form besides;
/// - `GET /api/sign-in/oidc/start[?login_hint=…]` sends the browser to the provider, with the attempt's state, nonce and
///   PKCE verifier in a ten-minute HTTP-only cookie (`AuthorizationAttempt`) so that any instance can finish it;
/// - `GET /api/sign-in/oidc/callback?code&state` checks the state against the cookie, trades the code for an ID token
///   and checks that, finds the user the provider's person is tied to (`IdentityStore`) or makes one (`newAccounts`),
///   and sends the browser to the web app with a new session's token in the address's fragment (`#token=…`, which
///   the page keeps and removes at once, as `sluice serve`'s link is taken). Whatever goes wrong sends it to
///   `#sign-in-error=<code>` instead, the detail in the server's log only.
/// Two-step verification is the provider's to ask for: a sign-in through it does not ask for Sluice's code.
struct SingleSignOnRoutes {
    let store: any ConversationStore
    let budgets: (any BudgetStore)?
    let singleSignOn: SingleSignOn?
    let sessionLifetime: Duration
    let clients: ClientAddresses
    /// Whether the sign-in page shows the name and password form (`--password-sign-in`).
    var passwordSignIn = true
    static let cookieName = "sluice_oidc"
    static let cookiePath = "/api/sign-in/oidc"
    /// How long a trip to the provider and back may take, in seconds.
    static let attemptLifetime: TimeInterval = 600
    var securityLog: SecurityLog { SecurityLog(store: store, clients: clients) }

    func register(public router: Router<SluiceRequestContext>) {
        router.get("api/sign-in/oidc") { _, _ in
            try AdminUserRoutes.json(Offer(
                enabled: singleSignOn != nil, name: singleSignOn?.client.settings.displayName, passwordSignIn: passwordSignIn))
        }
        router.get("api/sign-in/oidc/start", use: start)
        router.get("api/sign-in/oidc/callback", use: callback)
    }

    struct Offer: Encodable {
        let enabled: Bool
        let name: String?
        /// Whether a name and password sign in too.
        let passwordSignIn: Bool
    }

    /// Why a sign-in through the provider ended without one, as the web app's sign-in page names it.
    enum Failure: String {
        /// Single sign-on is not set up on this server.
        case off = "sso_off"
        /// The person declined, or the provider refused to ask them.
        case cancelled = "sso_cancelled"
        /// No attempt of this browser's matches the answer: it took over ten minutes, or came from elsewhere.
        case restart = "sso_restart"
        /// The provider could not be reached, or answered what is not OpenID Connect.
        case unavailable = "sso_unavailable"
        /// The provider's answer failed a check (the code, the ID token).
        case refused = "sso_refused"
        /// The person's email address is not at one of `--oidc-allowed-domains` (or was not verified by the provider).
        case domain = "sso_domain"
        /// The person is tied to another user already: they cannot be connected to this one.
        case taken = "sso_taken"
        /// No account could be made for the person (their names are all taken).
        case noAccount = "sso_no_account"
        case pending = "account_pending"
        case suspended = "account_suspended"
    }

    @Sendable func start(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        guard let singleSignOn else { return redirect(to: .off) }
        let attempt = AuthorizationAttempt.new()
        let hint = request.uri.queryParameters["login_hint"].map { String($0.prefix(200)) }
        let destination: String
        do {
            destination = try await singleSignOn.client.authorizationURL(for: attempt, loginHint: hint)
        } catch {
            context.logger.error("single sign-on could not start", metadata: ["error": "\(error)"])
            return redirect(to: .unavailable)
        }
        var response = Response(status: .found, headers: [.location: destination, .cacheControl: "no-store"])
        response.setCookie(Self.cookie(attempt.cookieValue, maxAge: Int(Self.attemptLifetime), for: singleSignOn))
        return response
    }

    @Sendable func callback(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        guard let singleSignOn else { return redirect(to: .off) }
        let query = request.uri.queryParameters
        let attempt = request.cookies[Self.cookieName].flatMap { AuthorizationAttempt(cookieValue: $0.value) }
        guard let attempt, query["state"].map(String.init) == attempt.state else {
            context.logger.notice("single sign-on answer without its attempt", metadata: ["had_cookie": "\(attempt != nil)"])
            return redirect(to: .restart)
        }
        if let error = query["error"] {
            context.logger.notice("single sign-on declined at the provider", metadata: ["error": "\(error)"])
            return redirect(to: .cancelled)
        }
        guard let code = query["code"].map(String.init), !code.isEmpty else { return redirect(to: .refused) }
        if let userID = attempt.connecting {
            // Believed only with the record the signed-in user's own request left under this state.
            let key = SingleSignOn.connectionKey(state: attempt.state, userID: userID)
            let since = Date().addingTimeInterval(-Self.attemptLifetime)
            guard try await !store.attempts(kind: SingleSignOn.connectionKind, key: key, since: since).isEmpty else {
                context.logger.notice("single sign-on connection without its request")
                return redirect(to: .restart)
            }
            try await store.clearAttempts(kind: SingleSignOn.connectionKind, key: key)
        }
        let identity: OIDCIdentity
        do {
            identity = try await singleSignOn.client.identity(code: code, attempt: attempt)
        } catch {
            context.logger.error("single sign-on refused", metadata: ["error": "\(error)"])
            if case .codeRefused = error as? OIDCError { return redirect(to: .refused) }
            if case .invalidIDToken = error as? OIDCError { return redirect(to: .refused) }
            return redirect(to: .unavailable)
        }
        guard singleSignOn.admits(identity) else {
            context.logger.notice("single sign-on refused: not an allowed domain", metadata: [
                "email": "\(identity.email ?? "-")", "verified": "\(identity.emailVerified)",
            ])
            return redirect(to: .domain)
        }
        let origin = SignInRoutes.origin(of: request, context: context, clients: clients)
        if let userID = attempt.connecting {
            return try await connect(identity, to: userID, origin: origin, name: singleSignOn.client.settings.displayName, context: context)
        }
        guard let found = try await account(for: identity, newAccounts: singleSignOn.newAccounts, request: request, context: context)
        else { return redirect(to: .noAccount) }
        let user = try await SingleSignOnGroups(store: store, budgets: budgets, singleSignOn: singleSignOn)
            .apply(identity, to: found, origin: origin, logger: context.logger)
        if let suspendedAt = user.suspendedAt {
            let refusal = AuthMiddleware.suspended(user, since: suspendedAt)
            await securityLog.record(
                .signInRefused, userID: user.id, origin: origin, detail: "with \(singleSignOn.client.settings.displayName): \(refusal.code)",
                logger: context.logger)
            return redirect(to: user.isPending ? .pending : .suspended)
        }
        let (token, _) = try await SignInRoutes.newSession(for: user, from: origin, in: store, lasting: sessionLifetime)
        await securityLog.record(
            .signedIn, userID: user.id, origin: origin, detail: "with \(singleSignOn.client.settings.displayName)", logger: context.logger)
        context.logger.notice("signed in with single sign-on", metadata: ["user": "\(user.name)"])
        return redirect(toFragment: "token=" + token)
    }

    /// Ties the provider's person to the user who asked, unless they are tied to someone else; back to the web app,
    /// whose token stays as it is.
    private func connect(
        _ identity: OIDCIdentity, to userID: String, origin: SessionOrigin, name: String, context: SluiceRequestContext
    ) async throws -> Response {
        if let tied = try await store.user(issuer: identity.issuer, subject: identity.subject) {
            guard tied.id == userID else {
                context.logger.notice("single sign-on connection refused: tied to another user", metadata: ["user": "\(tied.name)"])
                return redirect(to: .taken)
            }
        } else if try await !store.linkIdentity(issuer: identity.issuer, subject: identity.subject, userID: userID) {
            return redirect(to: .taken)
        }
        await securityLog.record(.providerConnected, userID: userID, origin: origin, detail: name, logger: context.logger)
        context.logger.notice("single sign-on connected", metadata: ["user_id": "\(userID)"])
        return redirect(toFragment: "sso=connected")
    }

    /// The user the provider's person is; a new one, tied to them, the first time (waiting for approval with
    /// `approval`); `nil` when every name it could take is taken.
    private func account(
        for identity: OIDCIdentity, newAccounts: SignUpMode, request: Request, context: SluiceRequestContext
    ) async throws -> User? {
        if let user = try await store.user(issuer: identity.issuer, subject: identity.subject) { return user }
        for name in SingleSignOn.accountNames(for: identity) {
            var user: User
            do {
                // Its own token is made and thrown away: the provider is how this account signs in (an administrator
                // may give it a token or a password later).
                user = try await store.createUser(name: name, plan: .free, tokenHash: AccessToken.hash(AccessToken.generate()))
            } catch StoreError.conflict {
                continue
            }
            try await budgets?.setPlan(userID: user.id, plan: .free, tokenLimit: nil)
            guard try await store.linkIdentity(issuer: identity.issuer, subject: identity.subject, userID: user.id) else {
                // Another sign-in of the same person made their account a moment ago: that one is theirs.
                _ = try await store.deleteUser(userID: user.id)
                return try await store.user(issuer: identity.issuer, subject: identity.subject)
            }
            // The very first user manages the server and has no one to approve them.
            if newAccounts == .approval && !user.isAdmin {
                try await store.markPending(userID: user.id)
                user = try await store.user(named: user.name) ?? user
            }
            context.logger.notice("signed up with single sign-on", metadata: ["user": "\(user.name)", "pending": "\(user.isPending)"])
            let audit = AuditTrail(store: store, budgets: budgets)
            await audit.record(
                .userSignedUp, on: AuditTarget(.user, user.name), by: .request(by: user, request, context, clients: clients),
                changes: AuditChange.between([], (try? await audit.user(named: user.name)) ?? []))
            return user
        }
        context.logger.error("single sign-on found no free name for a new account", metadata: ["subject": "\(identity.subject)"])
        return nil
    }

    private func redirect(to failure: Failure) -> Response { redirect(toFragment: "sign-in-error=" + failure.rawValue) }

    /// To the web app with `fragment`, the attempt's cookie dropped.
    private func redirect(toFragment fragment: String) -> Response {
        let home = singleSignOn?.appURL ?? "/"
        var response = Response(status: .found, headers: [.location: home + "#" + fragment, .cacheControl: "no-store"])
        response.setCookie(Self.cookie("", maxAge: 0, for: singleSignOn))
        return response
    }

    /// The attempt's cookie: sent back only to these routes, never readable by the page's scripts.
    static func cookie(_ value: String, maxAge: Int, for singleSignOn: SingleSignOn?) -> Cookie {
        // Lax: the provider's redirect back is a top-level navigation from its site, which Strict would strip it from.
        Cookie(
            name: cookieName, value: value, maxAge: maxAge, path: cookiePath,
            secure: singleSignOn?.client.settings.redirectURI.hasPrefix("https://") ?? false, httpOnly: true, sameSite: .lax)
    }
}
