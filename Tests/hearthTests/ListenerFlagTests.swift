import Foundation
import HearthTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The listener flags of `hearth serve` end to end: both TLS listeners (and the onion listener)
/// take the connection cap and the time-outs, and out-of-range values are refused.
@Suite("hearth serve: listener time-outs, cap and onion listener flags", .timeLimit(.minutes(2)))
struct ListenerFlagTests {
    /// A plain TCP connection to 127.0.0.1:`port` (no TLS), as a file descriptor.
    static func connectTCP(_ port: Int) throws -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw ChildProcessError(description: "socket: errno \(errno)") }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else {
            close(fd)
            throw ChildProcessError(description: "connect to \(port): errno \(errno)")
        }
        return fd
    }

    /// Whether the server closes `fd` within `limit` (end of file or reset, without a byte).
    static func closedByServer(_ fd: Int32, within limit: Duration) async -> Bool {
        let end = ContinuousClock.now + limit
        repeat {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            if poll(&p, 1, 0) > 0 {
                var byte: UInt8 = 0
                let n = recv(fd, &byte, 1, 0)
                return n == 0 || (n < 0 && errno == ECONNRESET)
            }
            try? await Task.sleep(for: .milliseconds(50))
        } while ContinuousClock.now < end
        return false
    }

    static func port(_ child: ChildProcess, _ prefix: String) throws -> Int {
        let line = try #require(child.stdoutLines.first { $0.hasPrefix(prefix) }, "no \(prefix) line: \(child.stdoutLines)")
        let colon = try #require(line.lastIndex(of: ":"))
        return try #require(Int(line[line.index(after: colon)...].prefix { $0.isNumber }))
    }

    @Test("--max-connections caps the intake, casework and onion listeners each: one more is closed at once")
    func capOnEveryListener() async throws {
        let work = try TemporaryDirectory()
        // A long handshake time-out: only the cap may close these connections, however slowly a
        // loaded machine gets round to checking them.
        let arguments = [
            "serve", "--dev", "--intake-port", "0", "--casework-port", "0", "--onion-port", "0", "--max-connections", "3", "--handshake-timeout",
            "600",
        ]
        try await withHearth(arguments, in: work.path) { child, _ in
            // The onion line comes after the certificate line the listener waited for.
            var onion: Int?
            for _ in 0..<100 where onion == nil {
                onion = try? Self.port(child, "onion: ")
                try await Task.sleep(for: .milliseconds(20))
            }
            let ports = [try Self.port(child, "intake: "), try Self.port(child, "casework: "), try #require(onion)]
            for port in ports {
                // Four at once: accepts are spread over event loops, so which one is over the cap
                // is not known, but exactly one is closed, without a byte, and three are held.
                let fds = try (0..<4).map { _ in try Self.connectTCP(port) }
                var closed = Set<Int32>()
                let end = ContinuousClock.now + .seconds(5)
                while closed.isEmpty && ContinuousClock.now < end {
                    for fd in fds where await Self.closedByServer(fd, within: .zero) { closed.insert(fd) }
                    try await Task.sleep(for: .milliseconds(50))
                }
                try await Task.sleep(for: .milliseconds(300))
                for fd in fds where await Self.closedByServer(fd, within: .zero) { closed.insert(fd) }
                #expect(closed.count == 1, "port \(port): \(closed.count) of 4 connections closed with a cap of 3")
                for fd in fds { close(fd) }
            }
        }
    }

    @Test("--handshake-timeout closes an idle connection on the casework listener too")
    func handshakeTimeoutOnCasework() async throws {
        let work = try TemporaryDirectory()
        try await withHearth(["serve", "--dev", "--intake-port", "0", "--casework-port", "0", "--handshake-timeout", "1"], in: work.path) {
            child, _ in
            let idle = try Self.connectTCP(try Self.port(child, "casework: "))
            #expect(await Self.closedByServer(idle, within: .seconds(30)), "an idle casework connection stayed open")
            close(idle)
        }
    }

    @Test(
        "out-of-range time-outs and caps are refused, and casework takes no --onion-port",
        arguments: [
            (["serve", "--handshake-timeout", "0"], "--handshake-timeout must be 1 to 3600 seconds"),
            (["serve", "--request-head-timeout", "3601"], "--request-head-timeout must be 1 to 3600 seconds"),
            (["intake", "--request-body-timeout", "99999"], "--request-body-timeout must be 1 to 3600 seconds"),
            (["serve", "--idle-timeout", "0"], "--idle-timeout must be 1 to 3600 seconds"),
            (["serve", "--max-connections", "0"], "--max-connections must be 1 to 1000000"),
            (["serve", "--onion-port", "70000"], "--onion-port must be 0 to 65535"),
            (["casework", "--onion-port", "8444"], "--onion-port serves the intake routes"),
        ])
    func refusedValues(arguments: [String], message: String) async throws {
        let work = try TemporaryDirectory()
        let outcome = try await ChildProcess.run(arguments, in: work.path)
        #expect(!outcome.succeeded)
        #expect(outcome.stderr.contains(message), "\(outcome)")
    }
}
