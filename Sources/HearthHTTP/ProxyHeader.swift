/// A PROXY protocol version 1 header (HAProxy's text form), as Tor writes it in front of each
/// onion-service connection with `HiddenServiceExportCircuitID haproxy`:
/// `PROXY TCP6 fc00:dead:beef:4dad::AABB:CCDD ::1 65535 443\r\n`, where the last 32 bits of the
/// source address are Tor's global circuit identifier.
///
/// ``parse(_:)`` is a pure, strict reader over at most ``maximumLength`` bytes: it never reads
/// past them, never allocates more than they take, and refuses anything the specification does
/// not allow (one space between fields, no leading zeros, ports 0 to 65535, addresses of the
/// named family in their plain text form; an IPv6 address in hexadecimal groups only).
public struct ProxyHeader: Sendable, Equatable {
    /// The protocol a header names.
    public enum Family: Sendable, Equatable {
        /// `TCP4`, with IPv4 addresses.
        case tcp4
        /// `TCP6`, with IPv6 addresses.
        case tcp6
        /// `UNKNOWN`: the proxy does not say where the connection came from.
        case unknown
    }

    /// The protocol named.
    public let family: Family
    /// The source address: 4 bytes (TCP4) or 16 (TCP6); empty for `UNKNOWN`.
    public let source: [UInt8]
    /// The destination address, as ``source``.
    public let destination: [UInt8]
    /// The source port (0 for `UNKNOWN`).
    public let sourcePort: UInt16
    /// The destination port (0 for `UNKNOWN`).
    public let destinationPort: UInt16

    /// Most bytes a version 1 header takes, the final CRLF included.
    public static let maximumLength = 107

    /// The `/64` Tor puts circuit identifiers in: `fc00:dead:beef:4dad::/64`.
    static let torPrefix: [UInt8] = [0xfc, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x4d, 0xad]

    /// Tor's global circuit identifier: the last 32 bits of a TCP6 source address in
    /// `fc00:dead:beef:4dad::/64` whose other interface bits are zero, as Tor writes it; nil for
    /// any other header.
    public var torCircuitID: UInt32? {
        guard family == .tcp6, source.count == 16, Array(source[0..<8]) == Self.torPrefix, source[8..<12].allSatisfy({ $0 == 0 })
        else { return nil }
        return source[12..<16].reduce(0) { $0 << 8 | UInt32($1) }
    }

    /// What ``parse(_:)`` found at the start of some bytes.
    public enum Parse: Sendable, Equatable {
        /// A whole, valid header, taking the first `length` bytes (CRLF included).
        case header(ProxyHeader, length: Int)
        /// The bytes so far could begin a header (fewer than ``maximumLength``, no CRLF yet).
        case incomplete
        /// Not a valid header: the connection should be closed.
        case invalid
    }

    /// Reads a PROXY version 1 header from the start of `bytes`; bytes after its CRLF are left alone.
    public static func parse(_ bytes: some Collection<UInt8>) -> Parse {
        var line: [UInt8] = []
        line.reserveCapacity(maximumLength)
        var sawCR = false
        var seen = 0
        for byte in bytes.prefix(maximumLength) {
            seen += 1
            if sawCR {
                guard byte == lf else { return .invalid }
                guard let header = header(line) else { return .invalid }
                return .header(header, length: line.count + 2)
            }
            if byte == cr {
                sawCR = true
                continue
            }
            // Printable ASCII only (space to tilde); a line feed or any control byte is refused.
            guard byte >= 0x20, byte <= 0x7e else { return .invalid }
            line.append(byte)
            if line.count <= signature.count, line.last != signature[line.count - 1] { return .invalid }
        }
        // No CRLF within the first maximumLength bytes: no header can follow.
        return seen >= maximumLength ? .invalid : .incomplete
    }

    private static let cr: UInt8 = 0x0d
    private static let lf: UInt8 = 0x0a
    private static let signature = Array("PROXY ".utf8)

    /// The header in `line` (without its CRLF), or nil.
    private static func header(_ line: [UInt8]) -> ProxyHeader? {
        guard line.count >= signature.count, Array(line[0..<signature.count]) == signature else { return nil }
        let rest = line[signature.count...]
        if rest.starts(with: Array("UNKNOWN".utf8)) {
            // The specification: a receiver ignores whatever follows UNKNOWN up to the CRLF.
            let after = rest.dropFirst(7)
            guard after.isEmpty || after.first == 0x20 else { return nil }
            return ProxyHeader(family: .unknown, source: [], destination: [], sourcePort: 0, destinationPort: 0)
        }
        let fields = rest.split(separator: 0x20, omittingEmptySubsequences: false)
        guard fields.count == 5, let sourcePort = port(fields[3]), let destinationPort = port(fields[4]) else { return nil }
        switch Array(fields[0]) {
        case Array("TCP4".utf8):
            guard let source = ipv4(fields[1]), let destination = ipv4(fields[2]) else { return nil }
            return ProxyHeader(family: .tcp4, source: source, destination: destination, sourcePort: sourcePort, destinationPort: destinationPort)
        case Array("TCP6".utf8):
            guard let source = ipv6(fields[1]), let destination = ipv6(fields[2]) else { return nil }
            return ProxyHeader(family: .tcp6, source: source, destination: destination, sourcePort: sourcePort, destinationPort: destinationPort)
        default:
            return nil
        }
    }

    /// A decimal port, 0 to 65535, without leading zeros.
    static func port(_ text: ArraySlice<UInt8>) -> UInt16? {
        guard let value = decimal(text, maximum: 65535) else { return nil }
        return UInt16(value)
    }

    /// A decimal number of 1 to 5 digits, no leading zero, at most `maximum`.
    private static func decimal(_ text: ArraySlice<UInt8>, maximum: Int) -> Int? {
        guard !text.isEmpty, text.count <= 5, text.allSatisfy({ (0x30...0x39).contains($0) }) else { return nil }
        guard text.count == 1 || text.first != 0x30 else { return nil }
        let value = text.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        return value <= maximum ? value : nil
    }

    /// A dotted-quad IPv4 address (four decimals 0 to 255, no leading zeros).
    static func ipv4(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        let parts = text.split(separator: 0x2e, omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var out: [UInt8] = []
        for part in parts {
            guard part.count <= 3, let value = decimal(part, maximum: 255) else { return nil }
            out.append(UInt8(value))
        }
        return out
    }

    /// An IPv6 address in hexadecimal groups (1 to 4 digits each), with at most one `::`.
    static func ipv6(_ text: ArraySlice<UInt8>) -> [UInt8]? {
        guard text.count >= 2, text.count <= 39 else { return nil }
        let chars = Array(text)
        var gap: Int?
        for i in 0..<(chars.count - 1) where chars[i] == colon && chars[i + 1] == colon {
            // ":::" has two overlapping gaps, "1::2::3" two separate ones: both refused.
            guard gap == nil else { return nil }
            gap = i
        }
        let words: [UInt16]
        if let gap {
            guard let head = groups(chars[..<gap]), let tail = groups(chars[(gap + 2)...]), head.count + tail.count <= 7 else { return nil }
            words = head + [UInt16](repeating: 0, count: 8 - head.count - tail.count) + tail
        } else {
            guard let all = groups(chars[...]), all.count == 8 else { return nil }
            words = all
        }
        return words.flatMap { [UInt8($0 >> 8), UInt8($0 & 0xff)] }
    }

    private static let colon: UInt8 = 0x3a

    /// Colon-separated groups of 1 to 4 hexadecimal digits (none for empty text); a stray colon
    /// at either end makes an empty group and is refused.
    private static func groups(_ text: ArraySlice<UInt8>) -> [UInt16]? {
        if text.isEmpty { return [] }
        var out: [UInt16] = []
        for group in text.split(separator: colon, omittingEmptySubsequences: false) {
            guard (1...4).contains(group.count), let value = hex(group) else { return nil }
            out.append(value)
        }
        return out
    }

    private static func hex(_ text: ArraySlice<UInt8>) -> UInt16? {
        var value: UInt16 = 0
        for c in text {
            let digit: UInt16
            switch c {
            case 0x30...0x39: digit = UInt16(c - 0x30)
            case 0x41...0x46: digit = UInt16(c - 0x41 + 10)
            case 0x61...0x66: digit = UInt16(c - 0x61 + 10)
            default: return nil
            }
            value = value << 4 | digit
        }
        return value
    }
}
