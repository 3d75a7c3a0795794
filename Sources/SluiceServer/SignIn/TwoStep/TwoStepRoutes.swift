import Foundation
import Hummingbird
import SluiceCore

/// The user's own two-step verification, from the Password page as GitHub's "Two-factor authentication" settings:
/// `GET /api/me/two-step` → `{"on", "waiting", "enabled_at", "recovery_codes_left"}`;
/// `POST /api/me/two-step {"password"}` starts setting it up → `{"secret", "uri"}` (the QR code's `otpauth://` URI);
/// `POST /api/me/two-step/confirm {"code"}` turns it on with the authenticator's first code → `{"recovery_codes"}`,
/// shown once; `POST /api/me/two-step/recovery-codes {"password"}` gives ten new ones in place of the old;
/// `DELETE /api/me/two-step {"password"}` turns it off. What changes it asks for the password again (GitHub's "sudo
/// mode"): a browser left signed in is not enough. An API key may do none of it. An administrator turns it off for a
/// user who lost both their phone and their recovery codes (`DELETE /api/admin/users/{name}/two-step`).
struct TwoStepRoutes {
    let store: any ConversationStore
    let passwords: PasswordHasher
    let clients: ClientAddresses
    var securityLog: SecurityLog { SecurityLog(store: store, clients: clients) }
    var verification: TwoStepVerification { TwoStepVerification(store: store) }
    /// Wrong passwords (and wrong codes) per name, shared with the sign-in: guesses here count there.
    var throttle: SignInThrottle { SignInThrottle("name", store: store) }

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("me/two-step", use: show)
        api.post("me/two-step", use: begin)
        api.post("me/two-step/confirm", use: confirm)
        api.post("me/two-step/recovery-codes", use: renewRecoveryCodes)
        api.delete("me/two-step", use: turnOff)
    }

    @Sendable func show(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try ownUser(context)
        let state = try await store.twoStep(userID: user.id)
        return try AdminUserRoutes.json(WireTwoStep(state: state))
    }

    @Sendable func begin(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try await ownUserAskedForPassword(request, context)
        let secret = TwoStepVerification.newSecret()
        guard try await store.beginTwoStep(userID: user.id, secret: secret) else {
            throw APIError(
                .conflict, code: "two_step_on",
                message: "Two-step verification is already on. Turn it off first to set up another authenticator.")
        }
        context.logger.notice("two-step set-up started", metadata: ["user": "\(user.name)"])
        return try AdminUserRoutes.secretJSON(["secret": secret, "uri": verification.setUpURI(secret: secret, account: user.name)])
    }

    @Sendable func confirm(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try ownUser(context)
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        try body.rejectingUnknownFields(["code"]) { "'\($0)' is not a field of a confirmation: code." }
        let code = try body.optionalString("code", maxLength: 100) ?? ""
        guard let state = try await store.twoStep(userID: user.id), !state.isOn else {
            throw APIError(
                .conflict, code: "two_step_not_waiting",
                message: "There is no set-up waiting for a code (it is on already, or was never started). Start again.")
        }
        try await holdBack(user)
        let codes = TwoStepVerification.newRecoveryCodes()
        guard let step = TwoStepVerification.step(of: code, secret: state.secret, at: Date()),
              try await store.enableTwoStep(userID: user.id, step: step, recoveryCodeHashes: codes.map(TwoStepVerification.recoveryHash))
        else {
            try await throttle.failed(user.name)
            throw Self.wrongCode
        }
        await securityLog.record(.twoStepOn, for: user, request: request, context: context)
        context.logger.notice("two-step verification turned on", metadata: ["user": "\(user.name)"])
        return try Self.recoveryCodes(codes)
    }

    @Sendable func renewRecoveryCodes(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try await ownUserAskedForPassword(request, context)
        guard try await store.twoStep(userID: user.id)?.isOn == true else { throw Self.off }
        let codes = TwoStepVerification.newRecoveryCodes()
        try await store.replaceRecoveryCodes(userID: user.id, hashes: codes.map(TwoStepVerification.recoveryHash))
        await securityLog.record(.recoveryCodesRenewed, for: user, request: request, context: context)
        context.logger.notice("recovery codes renewed", metadata: ["user": "\(user.name)"])
        return try Self.recoveryCodes(codes)
    }

    @Sendable func turnOff(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        let user = try await ownUserAskedForPassword(request, context)
        guard try await store.disableTwoStep(userID: user.id) else { throw Self.off }
        await securityLog.record(.twoStepOff, for: user, request: request, context: context)
        context.logger.notice("two-step verification turned off", metadata: ["user": "\(user.name)"])
        return Response(status: .noContent)
    }

    static let wrongCode = APIError(
        .badRequest, code: "wrong_code",
        message: "That is not the code your authenticator shows now. Type the current six digits; if they keep being "
            + "refused, check that the phone's clock is set automatically.")

    static let off = APIError(.conflict, code: "two_step_off", message: "Two-step verification is not on.")

    private static func recoveryCodes(_ codes: [String]) throws -> Response { try AdminUserRoutes.secretJSON(["recovery_codes": codes]) }

    /// The signed-in user, unless the request was made with an API key (403 `key_cannot_change_two_step`).
    private func ownUser(_ context: SluiceRequestContext) throws -> User {
        let user = try context.requireUser()
        guard context.apiKey == nil else {
            throw APIError(
                .forbidden, code: "key_cannot_change_two_step",
                message: "An API key cannot see or change two-step verification. Do that from the web app, signed in.")
        }
        return user
    }

    /// The signed-in user, once the request's body gave their password again.
    private func ownUserAskedForPassword(_ request: Request, _ context: SluiceRequestContext) async throws -> User {
        let user = try ownUser(context)
        try await checkPassword(of: user, in: try await JSONObjectBody(request: request, context: context, allowEmpty: true))
        return user
    }

    /// 429 while the user's name has had too many wrong passwords or codes.
    private func holdBack(_ user: User) async throws {
        if let wait = try await throttle.wait(for: user.name) {
            throw SignInThrottle.heldBack(wait, code: "too_many_attempts") { "Too many wrong passwords or codes. Try again in \($0)." }
        }
    }

    /// The user's password, asked again before a change; a user without one is told to set one first (two-step
    /// verification guards the password sign-in: their token link alone is a long random secret already).
    private func checkPassword(of user: User, in body: JSONObjectBody) async throws {
        try body.rejectingUnknownFields(["password"]) { "'\($0)' is not a field here: password." }
        guard let hash = try await store.passwordHash(userID: user.id) else {
            throw APIError(
                .conflict, code: "no_password",
                message: "Set a password first: two-step verification guards signing in with a name and password.")
        }
        try await holdBack(user)
        let given = try body.optionalString("password", maxLength: 1_000) ?? ""
        guard try await passwords.verify(given, against: hash) else {
            try await throttle.failed(user.name)
            throw APIError(
                .forbidden, code: "wrong_password",
                message: "That is not your current password, so nothing changed. Type it again.")
        }
    }
}

/// A user's two-step verification as `GET /api/me/two-step` shows it; the secret stays on the server.
struct WireTwoStep: Encodable {
    let on: Bool
    /// A set-up started and waiting for its first code.
    let waiting: Bool
    let enabledAt: Date?
    let recoveryCodesLeft: Int

    init(state: TwoStepState?) {
        on = state?.isOn ?? false
        waiting = state.map { !$0.isOn } ?? false
        enabledAt = state?.enabledAt
        recoveryCodesLeft = state?.isOn == true ? state?.recoveryCodesLeft ?? 0 : 0
    }
}
