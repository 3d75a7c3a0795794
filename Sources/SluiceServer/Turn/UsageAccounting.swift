import SluiceCore

/// Decides the usage of one generation from what the provider reported and what Sluice counted.
///
/// The provider's figures are authoritative. A figure it did not report is filled in from Sluice's count and
/// the usage is marked `counted`. Sluice's counts are kept beside the provider's either way, so that a
/// disagreement stays visible (and is counted in `sluice_usage_count_mismatch_total`).
enum UsageAccounting {
    struct Mismatch: Equatable {
        var input = false
        var output = false
    }

    static func resolve(reported: Usage?, countedInput: Int?, countedOutput: Int?) -> (usage: Usage?, mismatch: Mismatch) {
        let reportedInput = reported?.inputTokens
        let reportedOutput = reported?.outputTokens
        var mismatch = Mismatch()
        if let reportedInput, let countedInput, reportedInput != countedInput { mismatch.input = true }
        if let reportedOutput, let countedOutput, reportedOutput != countedOutput { mismatch.output = true }
        guard let input = reportedInput ?? countedInput, let output = reportedOutput ?? countedOutput else {
            // Not even Sluice could count (no counter for this model): keep whatever the provider said.
            return (reported, mismatch)
        }
        let filledIn = reportedInput == nil || reportedOutput == nil
        let total = filledIn ? input + output : (reported?.totalTokens ?? input + output)
        return (Usage(
            inputTokens: input, outputTokens: output, totalTokens: total, source: filledIn ? .counted : .provider,
            countedInputTokens: countedInput, countedOutputTokens: countedOutput,
            cachedInputTokens: reported?.cachedInputTokens, cacheWriteTokens: reported?.cacheWriteTokens), mismatch)
    }
}
