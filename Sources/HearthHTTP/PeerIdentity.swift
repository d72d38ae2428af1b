public import NIOCore

/// Whom a request counts against in the rate limiters: the connecting address, or on the onion
/// listener the Tor circuit it came through (every onion visitor connects from the local Tor
/// daemon, so the address would put them all in one bucket).
///
/// Memory only: never logged (its description says nothing), never stored; the limiters keep
/// only a keyed hash of it.
public enum PeerIdentity: Sendable, Hashable, CustomStringConvertible {
    /// The peer's IP address as text (`"unknown"` when the channel has none).
    case address(String)
    /// Tor's global circuit identifier, from the PROXY header Tor sends on the onion listener.
    case torCircuit(UInt32)

    /// The address of `address`, or `"unknown"`.
    public static func of(_ address: SocketAddress?) -> PeerIdentity { .address(address?.ipAddress ?? "unknown") }

    /// Says what kind of identity it is, never the address or circuit.
    public var description: String {
        switch self {
        case .address: "peer address (not shown)"
        case .torCircuit: "Tor circuit (not shown)"
        }
    }

    /// The bytes the limiters hash: a kind byte, then the address text or the circuit number, so
    /// that no address and circuit share a key.
    var keyBytes: [UInt8] {
        switch self {
        case .address(let text): [0x61] + Array(text.utf8)
        case .torCircuit(let id): [0x63, UInt8(id >> 24), UInt8(id >> 16 & 0xff), UInt8(id >> 8 & 0xff), UInt8(id & 0xff)]
        }
    }

    /// The identity the listener established for the connection being served (set by the
    /// listener's child channel around each connection's requests; read by ``HearthRequestContext``).
    @TaskLocal static var current: PeerIdentity?
}
