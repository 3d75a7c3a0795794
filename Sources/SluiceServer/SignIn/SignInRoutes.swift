import Foundation
import Hummingbird
import SluiceCore
import SluiceStore

/// Signing in with a name and password, as Open WebUI's sign-in form does, besides the token link `sluice serve` prints:
/// `POST /api/sign-in {"name", "password", "code"?}` → `{"token", "expires_at", "user"}` starts a session — a bearer token of
/// its own, good for `SignInRoutes.sessionLifetime` — so that signing out here leaves the user's other browsers
/// signed in (with two-step verification on, `code` is the authenticator's code or a recovery code: without it the
/// answer is 401 `two_step_required`; `TwoStepRoutes`); `POST /api/sign-out` ends the session the request was made with;
/// `PUT /api/me/password {"current_password"?, "password"}` sets the user's own password (the current one is asked
/// for when there is one) and ends their other sessions; `DELETE /api/me/sessions` ends them without a change (ChatGPT's
/// "Log out of all devices", this one kept); `GET /api/me/sessions` lists the browsers signed in (GitHub's "Sessions":
/// where from, since when, which is this one) and `DELETE /api/me/sessions/{id}` signs one out. An administrator sets
/// anyone's password and signs anyone out everywhere (`AdminUserRoutes`).
struct SignInRoutes {
    let store: any ConversationStore
    let tokens: TokenCache
    let passwords: PasswordHasher
    /// How long a session lasts from its sign-in, and again from each use after it (`--session-days`; `SessionActivity`).
    let sessionLifetime: Duration
    let clients: ClientAddresses
    /// Whether a name and password sign in (`--password-sign-in`); off, `POST /api/sign-in` is `403 password_sign_in_off`.
    var passwordSignIn = true
    var securityLog: SecurityLog { SecurityLog(store: store, clients: clients) }
    /// Wrong passwords per name.
    var throttle: SignInThrottle { SignInThrottle("name", store: store) }
    /// Wrong passwords per client address, whatever the names: one machine trying a password on many names
    /// (spraying) is held back too, though more loosely, since many people may share an office's address.
    var addressThrottle: SignInThrottle { SignInThrottle("address", store: store, limit: 30) }

    func register(public router: Router<SluiceRequestContext>, signedIn api: RouterGroup<SluiceRequestContext>) {
        router.post("api/sign-in", use: signIn)
        api.post("sign-out", use: signOut)
        api.put("me/password", use: changePassword)
        api.delete("me/sessions", use: endOtherSessions)
        api.get("me/sessions", use: listSessions)
        api.delete("me/sessions/:id", use: endOneSession)
    }

    @Sendable func signIn(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        guard passwordSignIn else {
            throw APIError(
                .forbidden, code: "password_sign_in_off",
                message: "This server signs people in with its sign-in provider, not with passwords: use the button on the sign-in page.")
        }
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        try body.rejectingUnknownFields(["name", "password", "code"]) {
            "'\($0)' is not a field of a sign-in: name, password, code."
        }
        guard let name = try body.optionalString("name", maxLength: 1_000)?.trimmingCharacters(in: .whitespacesAndNewlines),
              !name.isEmpty, let password = try body.optionalString("password", maxLength: 1_000), !password.isEmpty
        else { throw APIError.invalid("Send your name and your password: {\"name\": …, \"password\": …}.") }
        let client = clients.client(peer: context.peer, headers: request.headers)
        let origin = SessionOrigin(userAgent: Self.userAgent(of: request), address: client?.address)
        if let wait = try await throttle.wait(for: name) {
            throw SignInThrottle.heldBack(wait, code: "too_many_attempts") {
                "Too many wrong passwords for '\(name)'. Try again in \($0), "
                    + "or sign in with your token link; an administrator can set a new password."
            }
        }
        // Counted per address only where the address stands for one client (`ClientAddresses.client`).
        let counted = client.flatMap { $0.distinct ? $0.address : nil }
        if let address = counted, let wait = try await addressThrottle.wait(for: address) {
            throw SignInThrottle.heldBack(wait, code: "too_many_attempts") {
                "Too many wrong passwords from this address. Try again in \($0), or sign in with your token link."
            }
        }
        let user = try await store.user(named: name)
        let hash = try await user.asyncMap { try await store.passwordHash(userID: $0.id) } ?? nil
        guard try await passwords.verify(password, against: hash), let user else {
            try await throttle.failed(name)
            if let address = counted { try await addressThrottle.failed(address) }
            if let user {
                await securityLog.record(
                    .signInRefused, userID: user.id, origin: origin, detail: hash == nil ? "no password is set" : "wrong password",
                    logger: context.logger)
            }
            // A name no user has may be a password typed in the wrong field: it is not logged.
            context.logger.notice("sign-in refused", metadata: [
                "user": "\(user?.name ?? "(no such user)")", "address": "\(origin.address ?? "-")",
            ])
            throw APIError(
                .unauthorized, code: "invalid_credentials",
                message: "That name and password do not match. Check both and try again; if you have forgotten the "
                    + "password, an administrator can set a new one (or sign in with your token link).")
        }
        // The second step, when the user turned it on: the name's count starts again only once both steps passed, so
        // that knowing the password does not buy more guesses at the code.
        var recoveryCodesLeft: Int?
        var how: String?
        if let state = try await store.twoStep(userID: user.id), state.isOn {
            recoveryCodesLeft = try await secondStep(of: user, state: state, body: body, countedAs: name, origin: origin, address: counted, context: context)
            how = recoveryCodesLeft == nil ? "with an authenticator code" : "with a recovery code"
        }
        try await throttle.succeeded(name)
        if let suspendedAt = user.suspendedAt { throw AuthMiddleware.suspended(user, since: suspendedAt) }
        let refused = try await refusedSinceLastSignIn(of: user)
        await securityLog.record(.signedIn, userID: user.id, origin: origin, detail: how, logger: context.logger)
        context.logger.notice("signed in", metadata: ["user": "\(user.name)"])
        return try await Self.startSession(
            for: user, from: origin, in: store, lasting: sessionLifetime, recoveryCodesLeft: recoveryCodesLeft,
            refusedSinceLastSignIn: refused)
    }

    /// How many sign-ins with the user's name were refused since their last one with the password (of their latest
    /// 100 events), for the web app to say so as Google's "someone tried to sign in" does; `nil` when none were.
    private func refusedSinceLastSignIn(of user: User) async throws -> Int? {
        let recent = try await store.securityEvents(userID: user.id, limit: 100)
        let refused = recent.prefix { $0.kind != .signedIn }.filter { $0.kind == .signInRefused }.count
        return refused == 0 ? nil : refused
    }

    /// The code after the password: the authenticator's of the moment, or a recovery code (how many are left is
    /// returned, for the web app to warn when few are). A missing code is asked for (401 `two_step_required`, not
    /// counted: the password was right); a wrong or used one counts as a wrong password.
    private func secondStep(
        of user: User, state: TwoStepState, body: JSONObjectBody, countedAs name: String, origin: SessionOrigin,
        address: String?, context: SluiceRequestContext
    ) async throws -> Int? {
        guard let code = try body.optionalString("code", maxLength: 100), !code.allSatisfy(\.isWhitespace) else {
            throw APIError(
                .unauthorized, code: "two_step_required",
                message: "Enter the six-digit code your authenticator app shows for Sluice, or one of your recovery codes.")
        }
        let outcome = try await TwoStepVerification(store: store).take(code, userID: user.id, state: state)
        switch outcome {
        case .code:
            return nil
        case .recoveryCode(let left):
            context.logger.notice("signed in with a recovery code", metadata: ["user": "\(user.name)", "recovery_codes_left": "\(left)"])
            return left
        case .alreadyUsed, .wrong:
            try await throttle.failed(name)
            if let address { try await addressThrottle.failed(address) }
            await securityLog.record(
                .signInRefused, userID: user.id, origin: origin,
                detail: outcome == .alreadyUsed ? "right password, a code already used" : "right password, wrong code", logger: context.logger)
            context.logger.notice("two-step code refused", metadata: ["user": "\(user.name)"])
            throw outcome == .alreadyUsed
                ? APIError(
                    .unauthorized, code: "code_used",
                    message: "That code was used a moment ago. Wait for your authenticator to show the next one and type that.")
                : APIError(
                    .unauthorized, code: "wrong_code",
                    message: "That code is not right. Type the six digits your authenticator shows now (check that the "
                        + "phone's clock is set automatically), or a recovery code.")
        }
    }

    /// A new session of `user`, answered as `{"token", "expires_at", "user"}` (`no-store`: the token is shown only here).
    static func startSession(
        for user: User, from origin: SessionOrigin, in store: any ConversationStore, lasting lifetime: Duration,
        recoveryCodesLeft: Int? = nil, refusedSinceLastSignIn: Int? = nil
    ) async throws -> Response {
        let (token, expiresAt) = try await newSession(for: user, from: origin, in: store, lasting: lifetime)
        return try AdminUserRoutes.secretJSON(SessionStarted(
            token: token, expiresAt: expiresAt, user: MeRoute.Me(user, team: try await store.teamName(userID: user.id)), recoveryCodesLeft: recoveryCodesLeft,
            refusedSinceLastSignIn: refusedSinceLastSignIn))
    }

    /// Starts a session of `user`: its token (stored only as its hash) and when it ends unless used.
    static func newSession(
        for user: User, from origin: SessionOrigin, in store: any ConversationStore, lasting lifetime: Duration
    ) async throws -> (token: String, expiresAt: Date) {
        let token = AccessToken.generate()
        let expiresAt = Date().addingTimeInterval(TimeInterval(lifetime.components.seconds))
        try await store.startSession(userID: user.id, tokenHash: AccessToken.hash(token), expiresAt: expiresAt, origin: origin)
        return (token, expiresAt)
    }

    /// Ends the session the request was made with; a user's own token or a key is left as it is (the web app forgets
    /// it all the same).
    @Sendable func signOut(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try context.requireUser()
        if try await store.endSession(tokenHash: AccessToken.hash(try AuthMiddleware.token(of: request))) {
            // Refused at once here; another instance finds the session gone within the token cache's lifetime.
            tokens.forget(userID: user.id)
            context.logger.notice("signed out", metadata: ["user": "\(user.name)"])
        }
        return Response(status: .noContent)
    }

    /// Ends every session of the user but the one (or the token) the request came with.
    @Sendable func endOtherSessions(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try userWithoutKey(context, code: "key_cannot_sign_out", may: "sign its user out of their browsers")
        let ended = try await endSessions(of: user, keepingThatOf: request)
        await securityLog.record(.signedOutElsewhere, for: user, request: request, context: context, detail: AdminUserRoutes.browsers(ended))
        context.logger.notice("signed out elsewhere", metadata: ["user": "\(user.name)", "sessions_ended": "\(ended)"])
        return try AdminUserRoutes.json(["ended_sessions": ended])
    }

    /// The user's signed-in browsers, the newest first, the one the request came with marked `current`.
    @Sendable func listSessions(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try userWithoutKey(context, code: "key_cannot_list_sessions", may: "list its user's browsers")
        let own = AccessToken.hash(try AuthMiddleware.token(of: request))
        let sessions = try await store.sessions(userID: user.id).map { WireSession($0, current: $0.tokenHash == own) }
        return try AdminUserRoutes.json(["sessions": sessions])
    }

    /// Signs one of the user's browsers out (this one too, when it is named: the web app signs out then).
    @Sendable func endOneSession(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try userWithoutKey(context, code: "key_cannot_sign_out", may: "sign its user out of their browsers")
        let id = try context.parameters.require("id")
        guard try await store.endSession(id: id, userID: user.id) else {
            throw APIError(
                .notFound, code: "session_not_found",
                message: "That browser is no longer signed in (it signed out, or its sign-in expired). Reload the list.")
        }
        // At once here; another instance lets the session go within the token cache's lifetime.
        tokens.forget(userID: user.id)
        context.logger.notice("signed out a browser", metadata: ["user": "\(user.name)"])
        return Response(status: .noContent)
    }

    /// Where a sign-in came from: the browser's `User-Agent` (at most 512 characters) and the client's address.
    static func origin(of request: Request, context: SluiceRequestContext, clients: ClientAddresses) -> SessionOrigin {
        SessionOrigin(userAgent: userAgent(of: request), address: clients.address(peer: context.peer, headers: request.headers))
    }

    private static func userAgent(of request: Request) -> String? { request.headers[.userAgent].map { String($0.prefix(512)) } }

    @Sendable func changePassword(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try userWithoutKey(context, code: "key_cannot_change_password", may: "change its user's password")
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        try body.rejectingUnknownFields(["current_password", "password"]) {
            "'\($0)' is not a field of a password change: current_password, password."
        }
        guard let password = try body.optionalString("password", maxLength: 1_000) else {
            throw APIError.invalid("Send the new password as 'password'.")
        }
        _ = try PasswordRule.checked(password, for: user.name)
        if let current = try await store.passwordHash(userID: user.id) {
            if let wait = try await throttle.wait(for: user.name) {
                throw SignInThrottle.heldBack(wait, code: "too_many_attempts") { "Too many wrong passwords. Try again in \($0)." }
            }
            let given = try body.optionalString("current_password", maxLength: 1_000) ?? ""
            guard try await passwords.verify(given, against: current) else {
                try await throttle.failed(user.name)
                throw APIError(
                    .forbidden, code: "wrong_password",
                    message: "The current password is not right, so it was not changed. Type your current password "
                        + "again (an administrator can set a new one if it is forgotten).")
            }
        }
        try await store.setPasswordHash(userID: user.id, hash: try await passwords.hash(password))
        // Whoever else was signed in with the old password is signed out; this browser stays.
        let ended = try await endSessions(of: user, keepingThatOf: request)
        await securityLog.record(.passwordChanged, for: user, request: request, context: context)
        context.logger.notice("password changed", metadata: ["user": "\(user.name)", "sessions_ended": "\(ended)"])
        return try AdminUserRoutes.json(["ended_sessions": ended])
    }

    /// The signed-in user, unless the request was made with an API key, which may not do `what` (403 `code`).
    private func userWithoutKey(_ context: SluiceRequestContext, code: String, may what: String) throws -> User {
        let user = try context.requireUser()
        guard context.apiKey == nil else {
            throw APIError(.forbidden, code: code, message: "An API key cannot \(what). Do that from the web app, signed in.")
        }
        return user
    }

    /// Ends every session of the user but the one (or the token) `request` was made with; how many ended.
    private func endSessions(of user: User, keepingThatOf request: Request) async throws -> Int {
        let ended = try await store.endSessions(userID: user.id, keeping: AccessToken.hash(try AuthMiddleware.token(of: request)))
        // At once here; another instance lets the ended sessions go within the token cache's lifetime.
        tokens.forget(userID: user.id)
        return ended
    }
}

/// A signed-in browser as `GET /api/me/sessions` lists it; the token's hash stays on the server.
struct WireSession: Encodable {
    let id: String
    let userAgent: String?
    let address: String?
    let createdAt: Date
    let lastActiveAt: Date
    let expiresAt: Date
    /// The session the request was made with.
    let current: Bool

    init(_ session: SignInSession, current: Bool) {
        id = session.id
        userAgent = session.origin.userAgent
        address = session.origin.address
        createdAt = session.createdAt
        lastActiveAt = session.lastActiveAt
        expiresAt = session.expiresAt
        self.current = current
    }
}

/// `{"token", "expires_at", "user", "recovery_codes_left"?, "refused_since_last_sign_in"?}`: a session just started; the
/// token is shown once.
struct SessionStarted: Encodable {
    let token: String
    let expiresAt: Date
    let user: MeRoute.Me
    /// After a sign-in with a recovery code: how many are left (absent otherwise).
    var recoveryCodesLeft: Int?
    /// Sign-ins with the user's name refused since their last one (absent when none were).
    var refusedSinceLastSignIn: Int?
}
