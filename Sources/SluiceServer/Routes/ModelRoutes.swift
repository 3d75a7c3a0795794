import Hummingbird
import SluiceCore

/// `GET /api/models`: the models the caller may chat with, and what the web app's model picker says about each —
/// its context window and its price per million tokens (exact decimal strings) — with the one a new conversation
/// gets when it names none — and the longest message the composer may send as typed words (longer text goes as a
/// file: the web app turns a long paste into one).
struct ModelRoutes {
    /// The served models, the server's default first (what `GET /v1/models` lists).
    let models: [String]
    let defaultModel: String
    let catalog: ModelCatalog
    /// The prompt guard's length limit; `nil` without a guard.
    let maxMessageCharacters: Int?
    /// Whether a model names conversations (`--title-model` is not `off`): the web app asks for a title after a
    /// conversation's first answer.
    var writesTitles = true

    func register(on api: RouterGroup<SluiceRequestContext>) {
        api.get("models", use: list)
    }

    @Sendable func list(_ request: Request, context: SluiceRequestContext) async throws -> ModelList {
        let user = try context.requireUser()
        return ModelList(
            default: user.defaultModel(defaultModel),
            models: models.filter(user.mayUse).map { ModelResource(id: $0, catalog: catalog) },
            maxMessageCharacters: maxMessageCharacters, titles: writesTitles)
    }
}

struct ModelList: ResponseEncodable {
    /// The model a new conversation gets when it names none (`User.defaultModel`).
    let `default`: String
    let models: [ModelResource]
    let maxMessageCharacters: Int?
    /// Whether `POST /api/conversations/{id}/title` names conversations on this server.
    let titles: Bool
}

/// One model as the picker shows it; a figure the catalog does not know is left out.
struct ModelResource: ResponseEncodable {
    let id: String
    let contextWindow: Int?
    /// USD per million input and output tokens, exact (`"0.15"`); `"0"` for the local model.
    let inputUsdPerMillion: String?
    let outputUsdPerMillion: String?
    /// USD per million prompt tokens read from the provider's prompt cache, when the model prices them apart.
    let cachedInputUsdPerMillion: String?
    /// Whether the model sees images (`ModelCatalog.acceptsImages`); absent when nobody said.
    let seesImages: Bool?
    /// Whether the model takes a reasoning effort (`ModelCatalog.reasons`); absent when nobody said.
    let reasons: Bool?
    /// `true` when personal details are masked before a call reaches the model (absent otherwise).
    let masksPersonalData: Bool?

    init(id: String, catalog: ModelCatalog) {
        self.id = id
        contextWindow = catalog.contextWindow(for: id)
        seesImages = catalog.acceptsImages(id)
        reasons = catalog.reasons(id)
        masksPersonalData = catalog.masksPersonalData(id) ? true : nil
        let price = catalog.price(for: id)
        inputUsdPerMillion = price?.cost(inputTokens: 1_000_000, outputTokens: 0).decimalString
        outputUsdPerMillion = price?.cost(inputTokens: 0, outputTokens: 1_000_000).decimalString
        cachedInputUsdPerMillion = price?.cachedInputPerToken.map { USDAmount(picodollars: $0.picodollars * 1_000_000).decimalString }
    }
}
