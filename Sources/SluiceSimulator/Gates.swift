/// Token-by-token release for tests: a request with `X-Sluice-Gate: <key>` sends each token only after a
/// `POST /v1/gates/<key>` releases it (`?count=n` releases n at once). A test that releases token k+1 only once it has received token k
/// proves that nothing between the upstream and the client buffers, whatever the machine's load.
actor Gates {
    private var released: [String: Int] = [:]
    private var waiters: [String: [CheckedContinuation<Void, Never>]] = [:]

    /// Lets `count` more tokens through the gate `key`.
    func release(_ key: String, count: Int = 1) {
        for _ in 0..<max(count, 0) {
            if var queue = waiters[key], !queue.isEmpty {
                queue.removeFirst().resume()
                waiters[key] = queue
            } else {
                released[key, default: 0] += 1
            }
        }
    }

    /// Waits until the gate `key` lets one token through.
    func pass(_ key: String) async {
        if let count = released[key], count > 0 {
            released[key] = count - 1
            return
        }
        await withCheckedContinuation { waiters[key, default: []].append($0) }
    }
}
