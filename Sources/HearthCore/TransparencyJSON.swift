import FoundationEssentials

// The JSON of the published transparency figures (SECURITY.md §13): the stored form of a month
// and the public document. With RecordView.swift, the only files where Core uses Foundation's coders.

extension PublishedMonth {
    /// The stored form: compact JSON with sorted keys.
    public func json() throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }

    /// Reads the stored form.
    public init(json: [UInt8]) throws {
        self = try JSONDecoder().decode(PublishedMonth.self, from: Data(json))
    }
}

extension TransparencyReport.Document {
    /// Compact or indented JSON with sorted keys.
    public func json(pretty: Bool = false) throws -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = pretty ? [.sortedKeys, .withoutEscapingSlashes, .prettyPrinted] : [.sortedKeys, .withoutEscapingSlashes]
        return Array(try encoder.encode(self))
    }
}
