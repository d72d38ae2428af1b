import Foundation
import HearthApp
import Logging
import Synchronization
import Testing

/// `--log-format json`: one parseable object per line, the same content as the text format.
@Suite("JSON log lines")
struct JSONLogHandlerTests {
    final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
    }

    func logger(_ lines: Lines, level: Logger.Level = .info) -> Logger {
        Logger(label: "hearth") { label in JSONLogHandler(label: label, level: level, sink: lines.append) }
    }

    @Test("each message is one line of JSON with time, level, label, message and sorted metadata")
    func oneObjectPerLine() throws {
        let lines = Lines()
        var log = logger(lines)
        log[metadataKey: "listener"] = "intake"
        log.info("request", metadata: ["http.route": "/api/v1/me", "http.status": "200", "nested": ["a": "1", "list": ["x", "y"]]])
        let line = try #require(lines.all.first)
        #expect(line.hasSuffix("}\n") && line.filter { $0 == "\n" }.count == 1)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["level"] as? String == "info")
        #expect(object["label"] as? String == "hearth")
        #expect(object["message"] as? String == "request")
        let time = try #require(object["time"] as? String)
        #expect(time.count == 24 && time.hasSuffix("Z"), "RFC 3339 with milliseconds: \(time)")
        let metadata = try #require(object["metadata"] as? [String: Any])
        #expect(metadata["http.route"] as? String == "/api/v1/me")
        #expect(metadata["listener"] as? String == "intake")
        #expect((metadata["nested"] as? [String: Any])?["list"] as? [String] == ["x", "y"])
        #expect(line.range(of: "\"http.route\"")!.lowerBound < line.range(of: "\"http.status\"")!.lowerBound, "keys sorted")
        #expect(Set(object.keys) == ["time", "level", "label", "message", "metadata"], "no source file, line or host")
    }

    @Test("quotes, backslashes, newlines and control characters cannot break a line or forge a field")
    func escaping() throws {
        let lines = Lines()
        let hostile = "a\"b\\c\nd\re\tf\u{0}g\u{1b}[31mh\u{2028}i\",\"level\":\"critical"
        logger(lines).warning("\(hostile)", metadata: ["error.type": "\(hostile)"])
        let line = try #require(lines.all.first)
        #expect(line.filter { $0 == "\n" }.count == 1, "one line: \(line)")
        #expect(!line.contains("\u{1b}") && !line.contains("\u{0}") && !line.contains("\u{2028}"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
        #expect(object["message"] as? String == hostile)
        #expect(object["level"] as? String == "warning")
        #expect((object["metadata"] as? [String: Any])?["error.type"] as? String == hostile)
    }

    @Test("messages below the level are dropped")
    func levels() {
        let lines = Lines()
        let log = logger(lines, level: .notice)
        log.info("quiet")
        log.debug("quieter")
        log.notice("heard")
        #expect(lines.all.count == 1 && lines.all[0].contains("\"heard\""))
    }
}
