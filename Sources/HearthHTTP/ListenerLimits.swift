/// How long a TLS listener waits for each step of a connection, and how many connections it
/// holds at once: what keeps idle and slow (slowloris, slow-body) connections from using up its
/// descriptors.
///
/// One value serves both TLS listeners (and the onion listener); each listener counts its own
/// connections against ``maxConnections``.
public struct ListenerLimits: Sendable, Equatable {
    /// From accepting a connection to the end of its TLS handshake (on the onion listener, the
    /// PROXY header too). Default 10 s.
    public var handshakeTimeout: Duration = .seconds(10)
    /// For a request head to arrive whole: from the handshake for a connection's first request,
    /// from the first byte for later ones. Default 10 s.
    public var requestHeadTimeout: Duration = .seconds(10)
    /// For a request body to arrive whole, from the end of its head (bodies are at most 64 KiB).
    /// Default 30 s.
    public var requestBodyTimeout: Duration = .seconds(30)
    /// A kept-alive connection waiting for its next request, from the end of the last answer.
    /// Default 30 s.
    public var idleTimeout: Duration = .seconds(30)
    /// Connections one listener holds at once; one more is closed as soon as it is accepted,
    /// before any TLS work. Default 4,096 (the units' `LimitNOFILE=16384` leaves room for the
    /// intake and onion listeners together, or casework, plus the database and files).
    public var maxConnections = 4096

    /// The defaults.
    public init() {}

    /// Names the first value that is out of range (a time-out not above zero, a cap below 1), or nil.
    public var problem: String? {
        for (name, value) in [
            ("handshake", handshakeTimeout), ("request head", requestHeadTimeout), ("request body", requestBodyTimeout),
            ("idle", idleTimeout),
        ] where value <= .zero {
            return "the \(name) time-out must be above zero"
        }
        return maxConnections >= 1 ? nil : "the connection cap must be at least 1"
    }
}
