import AsyncHTTPClient
import Foundation
import HearthCore
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import Synchronization

/// A directory under the system temp dir, removed when released.
public final class TemporaryDirectory: Sendable {
    /// The directory path.
    public let path: String

    /// Creates a fresh, private (0700) directory.
    public init(_ prefix: String = "hearth-test") throws {
        var template = Array("\(NSTemporaryDirectory())/\(prefix).XXXXXX".utf8CString)
        guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
            throw POSIXError(.EIO)
        }
        path = String(cString: made)
    }

    /// A path inside the directory.
    public func file(_ name: String) -> String { "\(path)/\(name)" }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

/// An HTTPS client that trusts exactly one certificate (the server's self-signed one) and verifies
/// it fully, hostname included. Nothing in Hearth's tests skips certificate verification.
public final class TestHTTPSClient: Sendable {
    /// A response: status, headers and the body as bytes.
    public struct Reply: Sendable {
        public let status: Int
        public let headers: HTTPHeaders
        public let body: [UInt8]

        /// The body as UTF-8 text.
        public var text: String { String(decoding: body, as: UTF8.self) }

        /// The body parsed as a JSON object (empty when it is not one).
        public var json: [String: Any] {
            (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:]
        }
    }

    let client: HTTPClient
    /// `https://host:port`.
    public let baseURL: String

    /// A client for `baseURL` trusting only the PEM certificate at `certificatePath`. With
    /// `followRedirects` false, a redirect comes back as it is (for page tests that check `Location`).
    public init(baseURL: String, certificatePath: String, followRedirects: Bool = true) throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .certificates(try NIOSSLCertificate.fromPEMFile(certificatePath))
        tls.certificateVerification = .fullVerification
        var config = HTTPClient.Configuration(tlsConfiguration: tls)
        // Generous: the suite runs many servers and clients in parallel on two cores.
        config.timeout = .init(connect: .seconds(60), read: .seconds(120))
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 16)
        if !followRedirects { config.redirectConfiguration = .disallow }
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: config)
        self.baseURL = baseURL
    }

    /// Sends a request. `body` is sent as given; `contentType` defaults to JSON when there is a body.
    public func send(
        _ method: HTTPMethod, _ path: String, body: [UInt8]? = nil, contentType: String? = "application/json",
        headers: [(String, String)] = []
    ) async throws -> Reply {
        var request = HTTPClientRequest(url: baseURL + path)
        request.method = method
        for (k, v) in headers { request.headers.add(name: k, value: v) }
        if let body {
            if let contentType { request.headers.add(name: "Content-Type", value: contentType) }
            request.body = .bytes(ByteBuffer(bytes: body))
        }
        let response = try await client.execute(request, timeout: .seconds(120))
        let collected = try await response.body.collect(upTo: 4 * 1024 * 1024)
        return Reply(status: Int(response.status.code), headers: response.headers, body: Array(collected.readableBytesView))
    }

    /// Sends a JSON value.
    public func send(_ method: HTTPMethod, _ path: String, json: Any, receipt: String? = nil) async throws -> Reply {
        let data = try JSONSerialization.data(withJSONObject: json)
        return try await send(method, path, body: Array(data), headers: receipt.map { [("Authorization", "Receipt \($0)")] } ?? [])
    }

    /// Sends a request with a receipt and no body.
    public func send(_ method: HTTPMethod, _ path: String, receipt: String) async throws -> Reply {
        try await send(method, path, headers: [("Authorization", "Receipt \(receipt)")])
    }

    /// Closes the client.
    public func shutdown() async {
        try? await client.shutdown()
    }
}

/// Captures log lines in memory (every level), so tests can search them for data that must never appear.
public final class LogCapture: Sendable {
    private let lines = Mutex<[String]>([])

    public init() {}

    /// A logger writing into this capture at `trace` level.
    public func logger(label: String = "hearth-test") -> Logger {
        Logger(label: label) { _ in CapturingHandler(capture: self) }
    }

    func append(_ line: String) { lines.withLock { $0.append(line) } }

    /// Everything logged so far, one entry per line.
    public var all: [String] { lines.withLock { $0 } }

    /// Everything logged, joined.
    public var text: String { all.joined(separator: "\n") }

    struct CapturingHandler: LogHandler {
        let capture: LogCapture
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let merged = metadata.merging(event.metadata ?? [:]) { $1 }
            capture.append(
                "\(event.level) \(event.message) \(merged.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) \(event.source) \(event.file):\(event.line)"
            )
        }
    }
}

/// Where the built `hearth` executable is: next to the test bundle in the build folder
/// (override with `HEARTH_BINARY`).
public func hearthExecutablePath() -> String {
    if let p = ProcessInfo.processInfo.environment["HEARTH_BINARY"] { return p }
    var dir = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    if let exe = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") {
        dir = URL(fileURLWithPath: exe).deletingLastPathComponent()
    }
    // On Linux the test binary is <build>/debug/<Package>PackageTests.xctest; hearth sits beside it.
    return dir.appendingPathComponent("hearth").path
}

/// A realistic contact request as a JSON object, with every free-text field containing `canary`.
public func sampleRequest(canary: String = "", consents: [[String: Any]] = []) -> [String: Any] {
    [
        "preferredName": "Sam \(canary)",
        "contact": [
            ["method": "phone", "value": "07700 900123", "safeTimes": "weekdays before 3pm \(canary)", "mayLeaveMessage": false],
            ["method": "post", "value": "Flat 2\n1 Example Road \(canary)"],
            ["method": "organisation", "value": "Local support centre \(canary)"],
        ],
        "region": "north-west",
        "wants": ["support", "reopen"],
        "account": "What happened, in my words. \(canary)\nA second line.",
        "consents": consents,
    ]
}

/// Whether `needle` occurs in `haystack` (bytes).
public func bytes(_ haystack: [UInt8], contain needle: [UInt8]) -> Bool {
    guard !needle.isEmpty, haystack.count >= needle.count else { return false }
    let first = needle[0]
    var i = 0
    let last = haystack.count - needle.count
    while i <= last {
        if haystack[i] == first && Array(haystack[i..<i + needle.count]) == needle { return true }
        i += 1
    }
    return false
}

/// The bytes of a file, or empty if it does not exist.
public func fileBytes(_ path: String) -> [UInt8] {
    (try? Data(contentsOf: URL(fileURLWithPath: path))).map(Array.init) ?? []
}

/// A clock tests can move (TOTP steps, session timeouts, consent expiry, retention).
public final class TestClock: WallClock, Sendable {
    private let now: Mutex<Int64>

    /// Starts at `start` (default: now).
    public init(_ start: Int64 = Int64(Date().timeIntervalSince1970)) { now = Mutex(start) }

    public func unixSeconds() -> Int64 { now.withLock { $0 } }

    /// Moves the clock forward.
    public func advance(seconds: Int64) { now.withLock { $0 += seconds } }

    /// Moves the clock forward by whole days.
    public func advance(days: Int) { advance(seconds: Int64(days) * 86_400) }
}

/// Lowercase hex of bytes.
public func hex(_ bytes: [UInt8]) -> String {
    let digits = Array("0123456789abcdef".utf8)
    return String(decoding: bytes.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
}

/// Bytes from hex digits (as PostgreSQL's `encode(…, 'hex')` prints them); nil if malformed.
public func bytes(hex text: String) -> [UInt8]? {
    let digits = Array(text.utf8)
    guard digits.count % 2 == 0 else { return nil }
    var out: [UInt8] = []
    for i in stride(from: 0, to: digits.count, by: 2) {
        guard let byte = UInt8(String(decoding: digits[i..<i + 2], as: UTF8.self), radix: 16) else { return nil }
        out.append(byte)
    }
    return out
}

/// A copy of `bytes` with `mask` XORed into the byte at `index`.
public func flipping(_ bytes: [UInt8], at index: Int, mask: UInt8 = 0x01) -> [UInt8] {
    var copy = bytes
    copy[index] ^= mask
    return copy
}
