import Foundation
import Hummingbird
import SluiceCore
import SluiceStore

/// Whether people may make their own accounts (`serve --sign-up`), as Open WebUI's sign-up form lets them.
public enum SignUpMode: String, Sendable, CaseIterable {
    /// Only an administrator (or `sluice user add`) makes accounts: the default.
    case off
    /// Anyone may ask for an account; it waits, refused with `403 account_pending`, until an administrator approves it
    /// (restores it on the Users page) — Open WebUI's default "pending" role.
    case approval
    /// Anyone may make an account and chat at once, on the free plan.
    case open
}

/// `GET /api/sign-up` → `{"mode"}` (no token: the sign-in page asks whether to offer the form);
/// `POST /api/sign-up {"name", "password"}` makes an account on the free plan: with `open`, `201` and a session as
/// `POST /api/sign-in` answers; with `approval`, `202 {"pending": true, "message"}`; with `off`, `403 sign_up_closed`.
/// The account's own token is never shown (an administrator may issue one). At most 10 accounts are made per 10
/// minutes on the server, so that a script cannot fill the database.
struct SignUpRoute {
    let store: any ConversationStore
    let budgets: (any BudgetStore)?
    let passwords: PasswordHasher
    let mode: SignUpMode
    let sessionLifetime: Duration
    let clients: ClientAddresses
    /// Accounts made recently on the server (every instance of it), counted as one name's tries are.
    var made: SignInThrottle { SignInThrottle("sign-up", store: store, limit: 10, window: .seconds(600)) }

    func register(public router: Router<SluiceRequestContext>) {
        router.get("api/sign-up") { _, _ in try AdminUserRoutes.json(["mode": mode.rawValue]) }
        router.post("api/sign-up", use: signUp)
    }

    @Sendable func signUp(_ request: Request, context: SluiceRequestContext) async throws -> Response {
        guard mode != .off else {
            throw APIError(
                .forbidden, code: "sign_up_closed",
                message: "This server does not let people make their own accounts. Ask its administrator for one.")
        }
        let body = try await JSONObjectBody(request: request, context: context, allowEmpty: false)
        try body.rejectingUnknownFields(["name", "password"]) { "'\($0)' is not a field of a sign-up: name, password." }
        guard let raw = try body.optionalString("name", maxLength: 1_000), let name = AdminUserRoutes.userName(raw) else {
            throw APIError.invalid("'name' must be \(AdminUserRoutes.nameRule).")
        }
        guard let password = try body.optionalString("password", maxLength: 1_000) else {
            throw APIError.invalid("Choose a password: 'password'.")
        }
        _ = try PasswordRule.checked(password, for: name)
        if let wait = try await made.wait(for: "") {
            throw SignInThrottle.heldBack(wait, code: "too_many_sign_ups") { "Many accounts were made here just now. Try again in \($0)." }
        }
        let hash = try await passwords.hash(password)
        var user: User
        do {
            // Its own token is made and thrown away: nobody can sign in as the account until its password is set,
            // and by then it waits for approval when it must.
            user = try await store.createUser(name: name, plan: .free, tokenHash: AccessToken.hash(AccessToken.generate()))
        } catch StoreError.conflict {
            throw APIError(.conflict, code: "name_taken", message: "There is already a user named '\(name)'. Pick another name.")
        }
        try await made.failed("")
        try await budgets?.setPlan(userID: user.id, plan: .free, tokenLimit: nil)
        // The very first user manages the server and has no one to approve them.
        let waits = mode == .approval && !user.isAdmin
        if waits { try await store.markPending(userID: user.id) }
        try await store.setPasswordHash(userID: user.id, hash: hash)
        user.hasPassword = true
        context.logger.notice("signed up", metadata: ["user": "\(user.name)", "pending": "\(waits)"])
        // The administrators see who made their own account, and how it started out.
        let audit = AuditTrail(store: store, budgets: budgets)
        await audit.record(
            .userSignedUp, on: AuditTarget(.user, user.name), by: .request(by: user, request, context, clients: clients),
            changes: AuditChange.between([], (try? await audit.user(named: user.name)) ?? []))
        guard !waits else {
            var response = try AdminUserRoutes.json(SignUpPending(
                pending: true,
                message: "Your account '\(name)' is made and waits for an administrator's approval. Sign in once they have approved it."))
            response.status = .accepted
            return response
        }
        var response = try await SignInRoutes.startSession(
            for: user, from: SignInRoutes.origin(of: request, context: context, clients: clients), in: store,
            lasting: sessionLifetime)
        response.status = .created
        return response
    }
}

/// `{"pending": true, "message"}`: an account that waits for approval.
struct SignUpPending: Encodable {
    let pending: Bool
    let message: String
}
