import Foundation
import HearthApp
import HearthHTTP
import HearthTestSupport
import Testing

/// The intake listener's time-outs and connection cap, over real sockets to the running listener
/// with short time-outs set for the test: each test leaves every other time-out at a minute, so
/// only the one it names can close the connection.
@Suite("Listener time-outs and connection cap")
struct ListenerLimitTests {
    /// Limits with every time-out at a minute, then `change` applied.
    static func limits(_ change: (inout ListenerLimits) -> Void) -> (inout HearthSettings) -> Void {
        var limits = ListenerLimits()
        limits.handshakeTimeout = .seconds(60)
        limits.requestHeadTimeout = .seconds(60)
        limits.requestBodyTimeout = .seconds(60)
        limits.idleTimeout = .seconds(60)
        change(&limits)
        return { $0.listenerLimits = limits }
    }

    @Test("a TCP connection that never starts its TLS handshake is closed after the handshake time-out")
    func idleWithoutHandshake() async throws {
        try await IntakeHarness.with(configure: Self.limits { $0.handshakeTimeout = .seconds(1) }) { h in
            let idle = try await RawConnection.open(port: h.ports[.intake]!)
            #expect(await idle.waitUntilClosed(within: .seconds(8)), "an idle connection stayed open past its handshake time-out")
            #expect(idle.received.isEmpty)
        }
    }

    @Test("a request head sent a byte at a time is closed after the head time-out, unanswered")
    func slowHead() async throws {
        try await IntakeHarness.with(configure: Self.limits { $0.requestHeadTimeout = .seconds(2) }) { h in
            let slow = try await RawConnection.open(port: h.ports[.intake]!, certificate: h.keys.tlsCertificateFile)
            // On a loaded machine the time-out may close the connection before even this line is
            // written: that is the behaviour under test, so a failed write is not a failure.
            try? await slow.send("GET /healthz HTTP/1.1\r\n")
            var sent = 0
            for byte in Array("Host: localhost\r\nX-Padding: ".utf8) + [UInt8](repeating: 0x61, count: 64) {
                if slow.isClosed { break }
                try? await slow.send([byte])
                sent += 1
                try await Task.sleep(for: .seconds(1))
            }
            #expect(slow.handshakeDone, "the handshake went through: the head time-out closed it")
            #expect(await slow.waitUntilClosed(within: .seconds(2)), "a trickling head kept its connection for \(sent) bytes")
            #expect(sent < 20)
            #expect(RawConnection.status(in: slow.text) == nil, "the trickled request was answered")
        }
    }

    @Test("a request body sent a byte at a time is closed after the body time-out, and nothing is stored")
    func slowBody() async throws {
        try await IntakeHarness.with(configure: Self.limits { $0.requestBodyTimeout = .seconds(2) }) { h in
            let slow = try await RawConnection.open(port: h.ports[.intake]!, certificate: h.keys.tlsCertificateFile)
            try? await slow.send(
                "POST /api/v1/contact-requests HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 2000\r\n\r\n")
            var sent = 0
            for byte in Array(String(repeating: " ", count: 2000).utf8) {
                if slow.isClosed { break }
                try? await slow.send([byte])
                sent += 1
                try await Task.sleep(for: .seconds(1))
            }
            #expect(await slow.waitUntilClosed(within: .seconds(2)), "a trickling body kept its connection for \(sent) bytes")
            #expect(sent < 20)
            #expect(RawConnection.status(in: slow.text) != 201)
            #expect(try await h.count("records") == 0)
        }
    }

    @Test("a kept-alive connection is answered request after request, then closed after the idle time-out")
    func idleKeepAlive() async throws {
        // Idle 5 s: long enough that a loaded machine still sends the second request in time.
        try await IntakeHarness.with(configure: Self.limits { $0.idleTimeout = .seconds(5) }) { h in
            let c = try await RawConnection.open(port: h.ports[.intake]!, certificate: h.keys.tlsCertificateFile)
            try await c.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            #expect(await c.status(within: .seconds(10)) == 200)
            try await Task.sleep(for: .milliseconds(500))
            try await c.send("GET /healthz HTTP/1.1\r\nHost: localhost\r\n\r\n")
            let end = ContinuousClock.now + .seconds(4)
            while c.text.components(separatedBy: "HTTP/1.1 200").count < 3 && ContinuousClock.now < end {
                try await Task.sleep(for: .milliseconds(50))
            }
            #expect(c.text.components(separatedBy: "HTTP/1.1 200").count == 3, "both requests on one connection were answered")
            #expect(await c.waitUntilClosed(within: .seconds(30)), "an idle kept-alive connection stayed open")
        }
    }

    @Test("connections beyond the cap are closed at once, before TLS; freed places are taken again")
    func connectionCap() async throws {
        try await IntakeHarness.with(configure: Self.limits { $0.maxConnections = 20 }) { h in
            let port = h.ports[.intake]!
            var all: [RawConnection] = []
            for _ in 0..<30 { all.append(try await RawConnection.open(port: port)) }
            // Accepts are spread over event loops, so which ones are over the cap is not known:
            // ten are closed by the listener, without a byte, and twenty are held.
            let end = ContinuousClock.now + .seconds(5)
            while all.filter(\.isClosed).count < 10 && ContinuousClock.now < end { try await Task.sleep(for: .milliseconds(50)) }
            try await Task.sleep(for: .milliseconds(300))
            #expect(all.filter(\.isClosed).count == 10, "with a cap of 20, \(all.filter(\.isClosed).count) of 30 were closed")
            #expect(all.filter(\.isClosed).allSatisfy { $0.received.isEmpty })
            let held = all.filter { !$0.isClosed }
            let refused = try await RawConnection.open(port: port, certificate: h.keys.tlsCertificateFile)
            #expect(await refused.waitUntilClosed(within: .seconds(5)))
            #expect(!refused.handshakeDone)
            // Five places freed: a real request is served again.
            for c in held.prefix(5) { await c.close() }
            var status: Int?
            for _ in 0..<50 where status != 200 {
                try await Task.sleep(for: .milliseconds(100))
                let c = try await RawConnection.open(port: port, certificate: h.keys.tlsCertificateFile)
                try? await c.send(rawRequest("GET", "/healthz"))
                status = await c.status(within: .seconds(5))
            }
            #expect(status == 200)
            for c in held { await c.close() }
        }
    }

    @Test("while a couple of thousand idle connections are held open, a survivor's submission over TLS is answered")
    func answeredWhileHeld() async throws {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        // Both ends of every held connection live in this process; leave room for the other tests.
        let count = min(2000, (Int(limit.rlim_cur) - 3000) / 2)
        try #require(count >= 500, "raise the descriptor limit (ulimit -n \(limit.rlim_max)); have \(limit.rlim_cur)")
        // Opening two thousand connections can take minutes on a loaded machine: the held ones must
        // not reach their handshake time-out before the submission is sent.
        try await IntakeHarness.with(configure: Self.limits { $0.handshakeTimeout = .seconds(1800) }) { h in
            var held: [RawConnection] = []
            for _ in 0..<count { held.append(try await RawConnection.open(port: h.ports[.intake]!)) }
            let start = ContinuousClock.now
            let (reference, receipt) = try await h.submit(sampleRequest())
            let elapsed = ContinuousClock.now - start
            print("listener-limits: \(count) idle connections held; a submission was answered in \(elapsed)")
            #expect(!reference.isEmpty && !receipt.isEmpty)
            #expect(held.filter(\.isClosed).isEmpty, "the held connections were still open when the submission was answered")
            for c in held { await c.close() }
        }
    }
}
