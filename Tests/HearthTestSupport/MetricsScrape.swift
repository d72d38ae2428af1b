import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1

/// One request to a metrics listener, which speaks plain HTTP (it has no TLS): status, headers
/// and body text. `method` is the method's name (`GET`, `POST`, …).
public func plainHTTP(_ method: String, _ url: String) async throws -> (status: Int, headers: HTTPHeaders, text: String) {
    var request = HTTPClientRequest(url: url)
    request.method = HTTPMethod(rawValue: method)
    let response = try await HTTPClient.shared.execute(request, timeout: .seconds(60))
    let body = try await response.body.collect(upTo: 8 * 1024 * 1024)
    return (Int(response.status.code), response.headers, String(decoding: body.readableBytesView, as: UTF8.self))
}

/// A scrape in Prometheus's text format, parsed: every sample with its labels.
public struct Scrape: Sendable {
    /// One sample line.
    public struct Sample: Sendable {
        public let name: String
        public let labels: [String: String]
        public let value: Double
    }

    /// The text as served.
    public let text: String
    /// Every sample, in order.
    public let samples: [Sample]
    /// The `# TYPE` of each metric family.
    public let types: [String: String]
    /// Lines that are neither a comment, a sample nor empty (a well-formed scrape has none).
    public let malformed: [String]

    /// Parses `text`.
    public init(_ text: String) {
        self.text = text
        var samples: [Sample] = []
        var types: [String: String] = [:]
        var malformed: [String] = []
        for line in text.split(separator: "\n").map(String.init) {
            if line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ")
                if parts.count == 4 { types[String(parts[2])] = String(parts[3]) } else { malformed.append(line) }
                continue
            }
            if line.hasPrefix("#") { continue }
            if let sample = Self.sample(line) { samples.append(sample) } else { malformed.append(line) }
        }
        self.samples = samples
        self.types = types
        self.malformed = malformed
    }

    /// The value of the sample named `name` whose labels are exactly `labels`, or nil.
    public func value(_ name: String, _ labels: [String: String] = [:]) -> Double? {
        samples.first { $0.name == name && $0.labels == labels }?.value
    }

    /// Samples named `name` whose labels include all of `labels`.
    public func samples(_ name: String, where labels: [String: String] = [:]) -> [Sample] {
        samples.filter { s in s.name == name && labels.allSatisfy { s.labels[$0.key] == $0.value } }
    }

    /// `name{labels…} value` or `name value`; label values as Prometheus escapes them.
    static func sample(_ line: String) -> Sample? {
        var rest = Substring(line)
        let name = rest.prefix { $0.isLetter || $0.isNumber || $0 == "_" || $0 == ":" }
        guard !name.isEmpty else { return nil }
        rest = rest.dropFirst(name.count)
        var labels: [String: String] = [:]
        if rest.first == "{" {
            rest = rest.dropFirst()
            while rest.first != "}" {
                let key = rest.prefix { $0 != "=" }
                rest = rest.dropFirst(key.count)
                guard rest.hasPrefix("=\"") else { return nil }
                rest = rest.dropFirst(2)
                var value = ""
                while let c = rest.first, c != "\"" {
                    if c == "\\", let next = rest.dropFirst().first {
                        value.append(next == "n" ? "\n" : next)
                        rest = rest.dropFirst(2)
                    } else {
                        value.append(c)
                        rest = rest.dropFirst()
                    }
                }
                guard rest.first == "\"" else { return nil }
                rest = rest.dropFirst()
                labels[String(key)] = value
                if rest.first == "," { rest = rest.dropFirst() }
                guard !rest.isEmpty else { return nil }
            }
            rest = rest.dropFirst()
        }
        guard rest.first == " ", let value = Double(rest.dropFirst()) else { return nil }
        return Sample(name: String(name), labels: labels, value: value)
    }
}

/// Scrapes `http://127.0.0.1:port/metrics`; throws unless it answers 200.
public func scrapeMetrics(port: Int) async throws -> Scrape {
    let reply = try await plainHTTP("GET", "http://127.0.0.1:\(port)/metrics")
    guard reply.status == 200 else { throw ScrapeError(description: "GET /metrics answered \(reply.status): \(reply.text)") }
    return Scrape(reply.text)
}

/// A scrape that did not answer 200.
public struct ScrapeError: Error, CustomStringConvertible {
    public let description: String
}
