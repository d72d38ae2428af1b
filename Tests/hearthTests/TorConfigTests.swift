import Foundation
import HearthTestSupport
import Testing

/// `deploy/tor/onion-service.torrc` as an operator installs it: Tor itself checks it, and its
/// HiddenServicePort leads to the intake unit's onion listener.
@Suite("Tor onion-service snippet")
struct TorConfigTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let snippet = repository.appendingPathComponent("deploy/tor/onion-service.torrc").path
    static let unit = repository.appendingPathComponent("deploy/systemd/hearth-intake.service").path

    /// The tor binary, when installed (deploy/dev-prerequisites.sh installs it).
    static let tor = ["/usr/bin/tor", "/usr/sbin/tor", "/usr/local/bin/tor"].first { FileManager.default.isExecutableFile(atPath: $0) }
    /// CI must run the check: there a missing tor fails the test instead of skipping it.
    static let inCI = ProcessInfo.processInfo.environment["CI"] == "true"

    /// The snippet with its HiddenServiceDir moved into `dir`, a DataDirectory there and no SOCKS
    /// port, then `extra` lines.
    static func torrc(in dir: TemporaryDirectory, extra: [String] = []) throws -> String {
        let service = dir.file("hs")
        let data = dir.file("data")
        for path in [service, data] {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        }
        var lines = try String(contentsOfFile: snippet, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false).map { line in
            line.hasPrefix("HiddenServiceDir ") ? "HiddenServiceDir \(service)" : String(line)
        }
        lines += ["DataDirectory \(data)", "SocksPort 0", "Log notice stdout"] + extra
        let path = dir.file("torrc")
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test("tor --verify-config accepts the snippet (and refuses it with a misspelt option)", .enabled(if: tor != nil || inCI))
    func verifyConfig() async throws {
        let tor = try #require(Self.tor, "tor is not installed: deploy/dev-prerequisites.sh installs it (apt-get install -y tor)")
        let dir = try TemporaryDirectory()
        let good = try await ChildProcess.run(
            ["--verify-config", "-f", try Self.torrc(in: dir), "--defaults-torrc", "/dev/null"], in: dir.path, executable: tor)
        #expect(good.succeeded, "\(good)")
        #expect(good.stdout.contains("Configuration was valid"))
        let bad = try await ChildProcess.run(
            ["--verify-config", "-f", try Self.torrc(in: dir, extra: ["HiddenServicePoWDefencesEnabled 1"]), "--defaults-torrc", "/dev/null"],
            in: dir.path, executable: tor)
        #expect(!bad.succeeded, "tor --verify-config did not check the options")
    }

    @Test("the snippet exports circuits, turns on proof of work, and leads to the intake unit's onion listener")
    func snippetMatchesUnit() throws {
        let text = try String(contentsOfFile: Self.snippet, encoding: .utf8)
        let lines = text.split(separator: "\n").map(String.init).filter { !$0.hasPrefix("#") }
        #expect(lines.contains("HiddenServiceExportCircuitID haproxy"))
        #expect(lines.contains("HiddenServicePoWDefensesEnabled 1"))
        let port = try #require(lines.first { $0.hasPrefix("HiddenServicePort ") })
        let target = try #require(port.split(separator: " ").last.map(String.init))
        #expect(target.hasPrefix("127.0.0.1:"), "the onion listener is on loopback only")
        let unit = try String(contentsOfFile: Self.unit, encoding: .utf8)
        let exec = try #require(unit.split(separator: "\n").first { $0.hasPrefix("ExecStart=") })
        let words = exec.split(separator: " ").map(String.init)
        let onion = try #require(words.firstIndex(of: "--onion-port").map { words[$0 + 1] })
        #expect(target == "127.0.0.1:\(onion)", "torrc HiddenServicePort \(target) but the unit's --onion-port is \(onion)")
        // The intake port is the unit's own option or, failing that, the shared configuration file's.
        let config = try String(contentsOfFile: Self.repository.appendingPathComponent("deploy/hearth.json").path, encoding: .utf8)
        let file = try #require(try JSONSerialization.jsonObject(with: Data(config.utf8)) as? [String: Any])
        let intake = try #require(words.firstIndex(of: "--intake-port").map { words[$0 + 1] } ?? (file["intake-port"] as? Int).map(String.init))
        #expect(onion != intake, "Tor must not reach the ordinary intake listener")
    }
}
