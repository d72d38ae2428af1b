import Foundation
import HearthTestSupport
import Testing

/// One configuration file for the services and the CLI (`--config FILE`), options overriding it,
/// and `hearth config check`, through the real binary.
@Suite("Configuration file", .timeLimit(.minutes(2)))
struct ConfigCommandTests {
    /// The `key  value  (source)` lines of `config check`, by key.
    func table(_ stdout: String) -> [String: String] {
        var rows: [String: String] = [:]
        for line in stdout.split(separator: "\n") {
            let words = line.split(separator: " ", omittingEmptySubsequences: true)
            guard words.count >= 3, words.last!.hasPrefix("(") else { continue }
            rows[String(words[0])] = words.dropFirst().joined(separator: " ")
        }
        return rows
    }

    /// Writes `json` to `name` in `work` with `mode`, and returns its path.
    func write(_ json: String, _ name: String = "hearth.json", in work: TemporaryDirectory, mode: mode_t = 0o600) throws -> String {
        let path = work.file(name)
        try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode)
        return path
    }

    @Test("config check prints each effective value with where it came from; an option overrides the file; a database password is redacted")
    func check() async throws {
        let work = try TemporaryDirectory()
        let password = "pw-\(UInt64.random(in: 0...UInt64.max))"
        let file = try write(
            #"{"retention-days": 30, "log-format": "json", "keys": "/etc/hearth/keys", "database": "postgres://hearth_casework:\#(password)@db.example/hearth", "no-metrics": true, "submissions-per-minute": 0.5, "idle-timeout": 12}"#,
            in: work)
        let text = try await ChildProcess.run(["config", "check", "--config", file, "--intake-port", "8555"], in: work.path)
        #expect(text.succeeded, "\(text)")
        #expect(text.stdout.contains("configuration file: \(file)"), "\(text.stdout)")
        let rows = table(text.stdout)
        for (key, shown) in [
            ("retention-days", "30 (file)"), ("log-format", "json (file)"), ("keys", "/etc/hearth/keys (file)"),
            ("intake-port", "8555 (option)"), ("casework-port", "9443 (default)"), ("no-metrics", "true (file)"),
            ("max-connections", "4096 (default)"),
            ("submissions-per-minute", "0.5 (file)"), ("idle-timeout", "12 (file)"),
        ] {
            #expect(rows[key] == shown, "\(key): \(rows[key] ?? "missing") in \(text.stdout)")
        }
        #expect(text.stdout.contains("postgres://hearth_casework:REDACTED@db.example/hearth"), "\(text.stdout)")
        #expect(!text.stdout.contains(password) && !text.stderr.contains(password))

        let json = try await ChildProcess.run(["config", "check", "--config", file, "--retention-days", "45", "--json"], in: work.path)
        #expect(json.succeeded, "\(json)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [String: Any])
        #expect(object["retention-days"] as? Int == 45, "the option overrides the file")
        #expect(object["keys"] as? String == "/etc/hearth/keys")
        #expect(object["no-metrics"] as? Bool == true && object["metrics-port"] == nil)
        #expect(!json.stdout.contains(password))
    }

    @Test(
        "an invalid file is refused naming the key and what is wrong: unknown key, wrong type, fraction, twice, out of range, not an object, others may write, missing",
        arguments: [
            (#"{"retension-days": 30}"#, 0o600, "unknown key 'retension-days'"),
            (#"{"retention-days": "30"}"#, 0o600, "key 'retention-days' must be a whole number, not text"),
            (#"{"intake-port": 8443.5}"#, 0o600, "key 'intake-port' must be a whole number"),
            (#"{"no-metrics": "yes"}"#, 0o600, "key 'no-metrics' must be true or false"),
            (#"{"retention-days": 30, "retention-days": 31}"#, 0o600, "appears twice"),
            (#"{"retention-days": 9000}"#, 0o600, "'retention-days' in "),
            (#"{"log-level": "loud"}"#, 0o600, "'log-level' in "),
            (#"{"exit-url": "http://example.org"}"#, 0o600, "must be an https:// address"),
            (#"{"max-connections": 0}"#, 0o600, "'max-connections' in "),
            (#"{"idle-timeout": 7200}"#, 0o600, "'idle-timeout' in "),
            (#"{"min-free-disk": "lots"}"#, 0o600, "'min-free-disk' in "),
            (#"{"submissions-per-minute": 0}"#, 0o600, "'submissions-per-minute' in "),
            (#"{"onion-port": 70000}"#, 0o600, "'onion-port' in "),
            (#"{"database-password-credential": "x"}"#, 0o600, "needs database"),
            (#"["retention-days"]"#, 0o600, "must hold one JSON object"),
            (#"{"retention-days": 30"#, 0o600, "is not valid JSON"),
            (#"{"retention-days": 30}"#, 0o620, "can be changed by its group or by others"),
            (#"{"retention-days": 30}"#, 0o602, "can be changed by its group or by others"),
        ] as [(String, mode_t, String)])
    func invalid(json: String, mode: mode_t, message: String) async throws {
        let work = try TemporaryDirectory()
        let file = try write(json, in: work, mode: mode)
        let outcome = try await ChildProcess.run(["config", "check", "--config", file], in: work.path)
        #expect(outcome.status != 0 && outcome.stdout.isEmpty, "\(outcome)")
        #expect(outcome.stderr.contains(message), "\(message) in \(outcome.stderr)")
    }

    @Test("a missing file is refused, by config check and by serve, which does not start")
    func missing() async throws {
        let work = try TemporaryDirectory()
        let check = try await ChildProcess.run(["config", "check", "--config", work.file("nowhere.json")], in: work.path)
        #expect(check.status != 0 && check.stderr.contains("nowhere.json' cannot be read"), "\(check)")
        let serve = try await ChildProcess.run(["serve", "--dev", "--config", work.file("nowhere.json")], in: work.path)
        #expect(serve.status != 0 && serve.stdout.isEmpty, "\(serve)")
        #expect(!FileManager.default.fileExists(atPath: work.file("keys")), "nothing was created")
    }

    @Test("serve runs with the file's values (ports, log format), and retention run and doctor read the same retention period from it")
    func servicesAndCLIShareTheFile() async throws {
        let work = try TemporaryDirectory()
        let file = try write(
            #"{"intake-port": 0, "casework-port": 0, "log-format": "json", "retention-days": 21, "data": "state", "keys": "secrets"}"#, in: work)
        try await withHearth(["serve", "--dev", "--config", file], in: work.path) { child, listener in
            try await withClient(listener) { client in
                let health = try await client.send(.GET, "/healthz")
                #expect(health.status == 200)
            }
            let lines = child.stderr.text.split(separator: "\n")
            #expect(!lines.isEmpty && lines.allSatisfy { $0.hasPrefix("{") }, "JSON log lines from the file's log-format: \(child.stderr.text)")
        }
        #expect(FileManager.default.fileExists(atPath: work.file("state/hearth.sqlite")), "the file's data directory")
        #expect(FileManager.default.fileExists(atPath: work.file("secrets/tls.crt")), "the file's key directory")

        let retention = try await ChildProcess.run(["retention", "run", "--config", file], in: work.path)
        #expect(retention.succeeded && retention.stdout.contains("for 21 days"), "\(retention)")
        let doctor = try await ChildProcess.run(["doctor", "--config", file], in: work.path)
        #expect(doctor.stdout.contains("crypto-shredded after 21 days"), "\(doctor)")
        let overridden = try await ChildProcess.run(["retention", "run", "--config", file, "--retention-days", "14"], in: work.path)
        #expect(overridden.succeeded && overridden.stdout.contains("for 14 days"), "\(overridden)")
        let withoutFile = try await ChildProcess.run(["retention", "run", "--data", "state"], in: work.path)
        #expect(withoutFile.succeeded && withoutFile.stdout.contains("for 90 days"), "the services' default without a file: \(withoutFile)")
    }

    /// The repository's top directory.
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

    /// `a 'b c' d` → ["a", "b c", "d"]: the single-quoted words of a systemd command line.
    static func words(_ line: String) -> [String] {
        var words: [String] = []
        var current = ""
        var quoted = false
        for c in line {
            if c == "'" {
                quoted.toggle()
            } else if c == " " && !quoted {
                if !current.isEmpty { words.append(current) }
                current = ""
            } else {
                current.append(c)
            }
        }
        if !current.isEmpty { words.append(current) }
        return words
    }

    @Test("deploy/hearth.json passes config check, and every intake and casework command line in the systemd units is valid with it")
    func shippedFileAndUnits() async throws {
        let work = try TemporaryDirectory()
        let example = "\(Self.repository)/deploy/hearth.json"
        let check = try await ChildProcess.run(["config", "check", "--config", example], in: work.path)
        #expect(check.succeeded, "\(check)")
        let rows = table(check.stdout)
        #expect(rows["retention-days"] == "90 (file)" && rows["data"] == "/var/lib/hearth (file)", "\(check.stdout)")
        #expect(rows["max-connections"] == "4096 (file)" && rows["min-free-disk"] == "1073741824B (file)", "\(check.stdout)")

        var checked = 0
        for unit in ["hearth-intake.service", "hearth-casework.service"] {
            let text = try String(contentsOfFile: "\(Self.repository)/deploy/systemd/\(unit)", encoding: .utf8)
            for line in text.split(separator: "\n") {
                let trimmed = line.hasPrefix("#") ? line.dropFirst() : line[...]
                guard trimmed.hasPrefix("ExecStart=/usr/local/bin/hearth ") else { continue }
                var words = Self.words(String(trimmed.dropFirst("ExecStart=/usr/local/bin/hearth ".count)))
                #expect(["intake", "casework"].contains(words.removeFirst()), "\(line)")
                words = words.map { $0 == "/etc/hearth/hearth.json" ? example : $0 }
                #expect(words.contains(example), "\(unit) reads the shared file: \(line)")
                let outcome = try await ChildProcess.run(["config", "check"] + words, in: work.path)
                #expect(outcome.succeeded, "\(unit): \(line)\n\(outcome)")
                checked += 1
            }
        }
        #expect(checked == 6, "three command lines in each unit")
    }
}
