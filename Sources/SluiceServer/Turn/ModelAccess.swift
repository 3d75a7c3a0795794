import SluiceCore

/// Refuses a model the user may not chat with (`User.allowedModels`, `sluice user set-models`, narrowed by their team's
/// models and their key's: `Credential.actingUser`) with `403 model_not_allowed`, before anything is stored or sent.
enum ModelAccess {
    static func check(_ user: User, model: String) throws {
        guard !user.mayUse(model) else { return }
        let allowed = user.allowedModels ?? []
        // Empty when a key limited to some models outlived the user's access to all of them.
        let choice = allowed.isEmpty
            ? "It may use no model now. Nothing was sent: ask the operator to allow one (sluice user set-models, or your team's models), or make a key for your models."
            : "It may use: \(allowed.joined(separator: ", ")). Nothing was sent: choose one of those, or ask the operator to allow it (sluice user set-models, or your team's models)."
        throw APIError(
            .forbidden, code: "model_not_allowed", message: "Your account may not use the model '\(model)'. " + choice)
    }

    /// Throws `images_unsupported` (400) when `messages` show an image and the model is known not to see images: refused
    /// before anything is sent, as a bad request is. A model nobody said anything about is asked; its upstream decides.
    static func checkSeesImages(_ model: String, catalog: ModelCatalog, sending messages: [ChatMessage]) throws {
        guard catalog.acceptsImages(model) == false, messages.contains(where: { !$0.images.isEmpty }) else { return }
        throw imagesUnsupported(model)
    }

    static func imagesUnsupported(_ model: String) -> APIError {
        var error = APIError(
            .badRequest, code: "images_unsupported",
            message: "The model '\(model)' does not see images, and this conversation shows one. Ask a model that does (one with vision), or send text only.")
        error.details = "\"param\":\"messages\""
        return error
    }
}
