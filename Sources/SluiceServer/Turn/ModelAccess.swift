import SluiceCore

/// Refuses a model the user may not chat with (`User.allowedModels`, `sluice user set-models`) with `403
/// model_not_allowed`, before anything is stored or sent.
enum ModelAccess {
    static func check(_ user: User, model: String) throws {
        guard !user.mayUse(model) else { return }
        let allowed = user.allowedModels ?? []
        // Empty when a key limited to some models outlived the user's access to all of them.
        let choice = allowed.isEmpty
            ? "It may use no model now. Nothing was sent: ask the operator to allow one (sluice user set-models), or make a key for your models."
            : "It may use: \(allowed.joined(separator: ", ")). Nothing was sent: choose one of those, or ask the operator to allow it (sluice user set-models)."
        throw APIError(
            .forbidden, code: "model_not_allowed", message: "Your account may not use the model '\(model)'. " + choice)
    }
}
