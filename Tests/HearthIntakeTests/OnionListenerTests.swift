import Foundation
import HearthApp
import HearthCore
import HearthHTTP
import HearthTestSupport
import Testing

/// The onion listener as the local Tor daemon reaches it (`HiddenServiceExportCircuitID haproxy`):
/// each connection opens with Tor's PROXY header naming its circuit, then TLS; failed receipts
/// count per circuit. Every other listener refuses the header.
@Suite("Onion listener: PROXY header from Tor, limits per circuit")
struct OnionListenerTests {
    /// The onion listener on a free port. The handshake time-out is long unless a test waits for
    /// it: on a loaded machine a good client's own handshake must never run into it.
    static func onion(_ settings: inout HearthSettings) { onion(&settings, handshake: .seconds(60)) }

    static func onion(_ settings: inout HearthSettings, handshake: Duration) {
        settings.onionPort = 0
        settings.listenerLimits.handshakeTimeout = handshake
    }

    /// `GET /api/v1/me` with `receipt` through Tor circuit `circuit`: the answer's status.
    static func me(_ h: IntakeHarness, circuit: UInt32, receipt: String) async throws -> Int? {
        let c = try await RawConnection.open(
            port: h.ports[.onion]!, preamble: Array(torProxyHeader(circuit: circuit).utf8), certificate: h.keys.tlsCertificateFile)
        try await c.send(rawRequest("GET", "/api/v1/me", headers: ["Authorization: Receipt \(receipt)"]))
        let status = await c.status(within: .seconds(10))
        await c.close()
        return status
    }

    @Test("two Tor circuits have a failed-receipt bucket each: one on 429 does not block the other, nor direct visitors")
    func bucketPerCircuit() async throws {
        try await IntakeHarness.with(receiptFailures: 2, configure: Self.onion) { h in
            let (_, real) = try await h.submit(sampleRequest())
            let bad = { try Receipt.generate().displayed }
            #expect(try await Self.me(h, circuit: 0xAABB_CCDD, receipt: try bad()) == 401)
            #expect(try await Self.me(h, circuit: 0xAABB_CCDD, receipt: try bad()) == 401)
            #expect(try await Self.me(h, circuit: 0xAABB_CCDD, receipt: try bad()) == 429)
            #expect(try await Self.me(h, circuit: 0xAABB_CCDD, receipt: real) == 429, "the guessing circuit waits, even with a right receipt")
            // Another circuit through the same Tor daemon (the same peer address) is not limited.
            #expect(try await Self.me(h, circuit: 0x0000_0005, receipt: try bad()) == 401)
            #expect(try await Self.me(h, circuit: 0x0000_0005, receipt: real) == 200)
            // Nor is a visitor on the ordinary listener, from the same address as the Tor daemon.
            #expect(try await h.client.send(.GET, "/api/v1/me", receipt: real).status == 200)
            // The circuit never reaches the logs, in hex or decimal.
            for needle in ["aabb", "AABB", "ccdd", "2864434397", "fc00:dead"] { #expect(!h.logs.text.contains(needle)) }
        }
    }

    @Test(
        "the onion listener closes a connection without a valid header naming a Tor circuit, unanswered",
        arguments: [
            "",  // straight into TLS
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 1\r\n",  // malformed
            "PROXY TCP4 192.0.2.1 192.0.2.2 1000 443\r\n",  // valid, but not from Tor
            "PROXY UNKNOWN\r\n",  // valid, names no one
            "PROXY TCP6 fc00:dead:beef:4dad::1:2 ::1 1 443",  // no CRLF: the handshake time-out
            "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n",
        ])
    func refusedHeaders(preamble: String) async throws {
        // Only the header without its CRLF waits for the handshake time-out.
        let handshake: Duration = preamble.hasSuffix("443") ? .seconds(5) : .seconds(60)
        let configure: (inout HearthSettings) -> Void = { Self.onion(&$0, handshake: handshake) }
        try await IntakeHarness.with(configure: configure) { h in
            let c = try await RawConnection.open(port: h.ports[.onion]!, preamble: Array(preamble.utf8), certificate: h.keys.tlsCertificateFile)
            try? await c.send(rawRequest("GET", "/healthz"))
            #expect(await c.waitUntilClosed(within: .seconds(30)), "the onion listener kept a connection without Tor's header")
            #expect(!c.handshakeDone)
            #expect(RawConnection.status(in: c.text) == nil)
            // The listener still serves a connection with a good header.
            let good = try await RawConnection.open(
                port: h.ports[.onion]!, preamble: Array(torProxyHeader(circuit: 9).utf8), certificate: h.keys.tlsCertificateFile)
            try await good.send(rawRequest("GET", "/healthz"))
            #expect(await good.status(within: .seconds(10)) == 200)
        }
    }

    @Test("the ordinary intake listener refuses a PROXY header: the TLS handshake fails, nothing is answered")
    func headerRefusedElsewhere() async throws {
        try await IntakeHarness.with(receiptFailures: 1, configure: Self.onion) { h in
            let c = try await RawConnection.open(
                port: h.ports[.intake]!, preamble: Array(torProxyHeader(circuit: 42).utf8), certificate: h.keys.tlsCertificateFile)
            try? await c.send(rawRequest("GET", "/api/v1/me", headers: ["Authorization: Receipt \(try Receipt.generate().displayed)"]))
            #expect(await c.waitUntilClosed(within: .seconds(10)))
            #expect(!c.handshakeDone)
            #expect(RawConnection.status(in: c.text) == nil)
            // Without TLS the header bought nothing either: plain bytes after it get no HTTP answer.
            let plain = try await RawConnection.open(port: h.ports[.intake]!)
            try await plain.send(torProxyHeader(circuit: 42) + rawRequest("GET", "/healthz"))
            #expect(await plain.waitUntilClosed(within: .seconds(10)))
            #expect(!plain.text.contains("HTTP/"))
        }
    }

    @Test("without --onion-port there is no onion listener")
    func offByDefault() async throws {
        try await IntakeHarness.with { h in
            #expect(h.ports[.onion] == nil)
            #expect(h.assembly.settings.onionPort == nil)
        }
    }
}
