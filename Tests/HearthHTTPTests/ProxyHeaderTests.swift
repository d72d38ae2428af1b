import HearthHTTP
import Testing

@Suite("PROXY protocol v1 header (Tor's HiddenServiceExportCircuitID haproxy)")
struct ProxyHeaderTests {
    static func parse(_ text: String) -> ProxyHeader.Parse { ProxyHeader.parse(Array(text.utf8)) }

    @Test("Tor's own header gives the circuit in the last 32 bits of the source address")
    func torHeader() throws {
        let text = "PROXY TCP6 fc00:dead:beef:4dad::aabb:ccdd ::1 52445 443\r\n"
        guard case .header(let header, let length) = Self.parse(text + "\u{16}\u{03}\u{01}") else {
            Issue.record("not parsed")
            return
        }
        #expect(length == text.utf8.count)
        #expect(header.family == .tcp6)
        #expect(header.torCircuitID == 0xAABB_CCDD)
        #expect(header.source == [0xfc, 0x00, 0xde, 0xad, 0xbe, 0xef, 0x4d, 0xad, 0, 0, 0, 0, 0xaa, 0xbb, 0xcc, 0xdd])
        #expect(header.destination == [UInt8](repeating: 0, count: 15) + [1])
        #expect(header.sourcePort == 52445)
        #expect(header.destinationPort == 443)
        // Upper case hex and small circuits (Tor prints "%x", without padding) read the same way.
        guard case .header(let upper, _) = Self.parse("PROXY TCP6 fc00:dead:beef:4dad::AABB:CCDD ::1 65535 443\r\n"),
            case .header(let small, _) = Self.parse("PROXY TCP6 fc00:dead:beef:4dad::0:5 ::1 5 443\r\n")
        else {
            Issue.record("not parsed")
            return
        }
        #expect(upper.torCircuitID == 0xAABB_CCDD)
        #expect(small.torCircuitID == 5)
    }

    @Test("a valid TCP4 header, a TCP6 header outside Tor's prefix, and UNKNOWN parse, and name no circuit")
    func otherValidHeaders() throws {
        guard case .header(let v4, let length) = Self.parse("PROXY TCP4 192.0.2.1 198.51.100.22 35646 80\r\nGET"),
            case .header(let v6, _) = Self.parse("PROXY TCP6 2001:db8::1 2001:db8:0:0:0:0:0:2 1 65535\r\n"),
            case .header(let unknown, _) = Self.parse("PROXY UNKNOWN\r\n"),
            case .header(let unknownWithJunk, _) = Self.parse("PROXY UNKNOWN ffff:f...f:ffff 1.2.3.4 99999 0\r\n")
        else {
            Issue.record("not parsed")
            return
        }
        #expect(length == 45)
        #expect(v4.family == .tcp4 && v4.source == [192, 0, 2, 1] && v4.destination == [198, 51, 100, 22])
        #expect(v4.sourcePort == 35646 && v4.destinationPort == 80)
        #expect(v6.family == .tcp6 && v6.destination == [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2])
        #expect(unknown.family == .unknown && unknownWithJunk.family == .unknown)
        for header in [v4, v6, unknown, unknownWithJunk] { #expect(header.torCircuitID == nil) }
        // Tor's /64 with other interface bits set is not a Tor header.
        guard case .header(let near, _) = Self.parse("PROXY TCP6 fc00:dead:beef:4dad:1::1 ::1 1 443\r\n") else {
            Issue.record("not parsed")
            return
        }
        #expect(near.torCircuitID == nil)
    }

    @Test("a header cut short asks for more; one that cannot be a header is refused at once")
    func incomplete() {
        #expect(Self.parse("") == .incomplete)
        #expect(Self.parse("PRO") == .incomplete)
        #expect(Self.parse("PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 1 443") == .incomplete)
        #expect(Self.parse("PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 1 443\r") == .incomplete)
        // A TLS ClientHello, an HTTP request: no PROXY signature.
        #expect(Self.parse("\u{16}\u{03}\u{01}\u{02}\u{00}") == .invalid)
        #expect(Self.parse("GET / HTTP/1.1\r\n") == .invalid)
        #expect(Self.parse("proxy TCP4 1.2.3.4 1.2.3.4 1 1\r\n") == .invalid)
    }

    @Test("107 bytes without CRLF, or a header longer than 107 bytes, is refused")
    func tooLong() {
        let long = "PROXY UNKNOWN " + String(repeating: "a", count: 93)
        #expect(long.utf8.count == 107)
        #expect(Self.parse(long) == .invalid)
        #expect(Self.parse(long + "\r\n") == .invalid)
        // The longest allowed: 105 characters and CRLF.
        let longest = "PROXY UNKNOWN " + String(repeating: "a", count: 91) + "\r\n"
        #expect(longest.utf8.count == 107)
        guard case .header(_, let length) = Self.parse(longest) else {
            Issue.record("the longest header was refused")
            return
        }
        #expect(length == 107)
        // A byte beyond the 107th is never read: this is refused, not waited on.
        #expect(ProxyHeader.parse([UInt8](repeating: 0x50, count: 1)) == .incomplete)
        #expect(ProxyHeader.parse(Array("PROXY ".utf8) + [UInt8](repeating: 0x41, count: 200)) == .invalid)
    }

    @Test(
        "malformed headers are refused",
        arguments: [
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 1 443\n",  // LF without CR
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 1 443\r\r\n",
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 1 443\rX",  // CR without LF
            "PROXY TCP6  fc00:dead:beef:4dad::1:2 ::1 1 443\r\n",  // two spaces
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 1 443 \r\n",  // trailing space
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 1\r\n",  // a field missing
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 1 443 9\r\n",  // a field too many
            "PROXY TCP4 fc00:dead:beef:4dad::1:2 ::1 1 443\r\n",  // IPv6 under TCP4
            "PROXY TCP6 192.0.2.1 192.0.2.2 1 443\r\n",  // IPv4 under TCP6
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 65536 443\r\n",  // port too large
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 01 443\r\n",  // leading zero
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 -1 443\r\n",
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 +1 443\r\n",
            "PROXY TCP4 192.0.2.256 192.0.2.2 1 443\r\n",
            "PROXY TCP4 192.0.2 192.0.2.2 1 443\r\n",
            "PROXY TCP4 192.0.02.1 192.0.2.2 1 443\r\n",
            "PROXY TCP6 fc00:dead:beef:4dad:::1:2 ::1 1 443\r\n",  // ":::"
            "PROXY TCP6 fc00::dead::1 ::1 1 443\r\n",  // two "::"
            "PROXY TCP6 fc00:dead:beef:4dad:0:0:1:2:3 ::1 1 443\r\n",  // nine groups
            "PROXY TCP6 fc00:dead:beef:4dad:0:1:2 ::1 1 443\r\n",  // seven groups, no "::"
            "PROXY TCP6 fc00:dead:beef:4dad::12345 ::1 1 443\r\n",  // five hex digits
            "PROXY TCP6 :fc00::1 ::1 1 443\r\n",  // stray colon
            "PROXY TCP6 fc00::1: ::1 1 443\r\n",
            "PROXY TCP6 fc00::g ::1 1 443\r\n",
            "PROXY TCP6 ::ffff:192.0.2.1 ::1 1 443\r\n",  // embedded IPv4: not in hex groups
            "PROXY UDP4 192.0.2.1 192.0.2.2 1 443\r\n",
            "PROXY UNKNOWNX\r\n",
            "PROXY \r\n",
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 1 443\u{0}\r\n",
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 1 44\u{e9}\r\n",
        ])
    func malformed(text: String) {
        #expect(Self.parse(text) == .invalid)
    }
}
