import Foundation

/// Which process listens on a TCP port, read from Linux's `/proc`: a child's `/health` answering proves nothing
/// when another process holds the port the child was given.
enum ListeningSockets {
    /// Whether process `pid` holds a socket listening on `port` (IPv4 or IPv6). Where there is no `/proc` to
    /// ask, `true`: the caller then trusts the health check alone.
    static func holds(pid: Int32, port: Int) -> Bool {
        #if os(Linux)
        let inodes = listening(port: port)
        guard !inodes.isEmpty, let descriptors = try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd")
        else { return false }
        return descriptors.contains { descriptor in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/\(pid)/fd/\(descriptor)"),
                target.hasPrefix("socket:["), target.hasSuffix("]")
            else { return false }
            return inodes.contains(String(target.dropFirst("socket:[".count).dropLast()))
        }
        #else
        return true
        #endif
    }

    /// The inodes of the sockets listening on `port`: rows of `/proc/net/tcp{,6}` whose state is `0A` (LISTEN);
    /// columns: slot, local address (`hex-address:hex-port`), remote address, state, …, inode (the tenth).
    static func listening(port: Int) -> Set<String> {
        var inodes: Set<String> = []
        for table in ["/proc/net/tcp", "/proc/net/tcp6"] {
            // Read to the end: `/proc` files report size 0, and `String(contentsOfFile:)` then stops after one
            // page (about 27 sockets; a busy machine lists thousands).
            guard let file = FileHandle(forReadingAtPath: table) else { continue }
            let text = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
            try? file.close()
            for row in text.split(separator: "\n").dropFirst() {
                let columns = row.split(separator: " ")
                guard columns.count > 9, columns[3] == "0A", let colon = columns[1].lastIndex(of: ":"),
                    Int(columns[1][columns[1].index(after: colon)...], radix: 16) == port
                else { continue }
                inodes.insert(String(columns[9]))
            }
        }
        return inodes
    }
}
