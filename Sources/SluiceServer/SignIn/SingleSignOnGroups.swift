import Foundation
import Logging
import SluiceCore
import SluiceOIDC

/// What the provider's groups decide at a sign-in through it (`SingleSignOn.adminGroup`, `teamsFromGroups`): whether the
/// user is an administrator and which team they are in, so that the provider stays the one place where people are
/// managed. Each change is written to the audit log as made by "single sign-on"; nothing is changed when neither is set.
struct SingleSignOnGroups {
    let store: any ConversationStore
    let budgets: (any BudgetStore)?
    let singleSignOn: SingleSignOn

    /// Applies the groups of `identity` to `user`; the user as they are afterwards.
    func apply(_ identity: OIDCIdentity, to user: User, origin: SessionOrigin, logger: Logger) async throws -> User {
        guard singleSignOn.adminGroup != nil || singleSignOn.teamsFromGroups else { return user }
        let audit = AuditTrail(store: store, budgets: budgets)
        let source = AuditSource(
            actor: AuditActor(userID: nil, name: "single sign-on (\(singleSignOn.client.settings.displayName))"), origin: origin,
            logger: logger)
        try await audit.tracking(.userChanged, on: AuditTarget(.user, user.name), by: source, settings: { try await audit.user(named: user.name) }) {
            if let adminGroup = singleSignOn.adminGroup {
                let admin = identity.groups.contains(adminGroup)
                // The last administrator stays one (the store refuses): the server is never left without one.
                if admin != user.isAdmin, try await !store.setAdmin(userID: user.id, isAdmin: admin) {
                    logger.warning("single sign-on left the last administrator one", metadata: ["user": "\(user.name)"])
                }
            }
            if singleSignOn.teamsFromGroups {
                let current = try await store.teamName(userID: user.id)
                let named = try await teams(among: identity.groups)
                if current.map({ name in !named.contains { $0.name == name } }) ?? true {
                    try await store.setTeam(userID: user.id, teamID: named.first?.id)
                }
            }
        }
        return try await store.user(named: user.name) ?? user
    }

    /// The teams the groups name, in the groups' order.
    private func teams(among groups: [String]) async throws -> [Team] {
        var found: [Team] = []
        for group in groups.prefix(100) {
            if let team = try await store.team(named: group), !found.contains(where: { $0.id == team.id }) { found.append(team) }
        }
        return found
    }
}
