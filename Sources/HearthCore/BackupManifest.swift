import HearthCrypto

/// What a store reports about the snapshot a backup copies, read inside that snapshot.
public struct BackupFigures: Sendable, Equatable {
    /// The store's schema version (SQLite: migrations applied; PostgreSQL: `hearth.schema_version()`).
    public var schemaVersion: Int
    /// Records in the snapshot.
    public var recordCount: Int
    /// Consent wraps per scope and key version in the snapshot.
    public var wraps: [Scope: [UInt32: Int]]

    /// Figures as read.
    public init(schemaVersion: Int, recordCount: Int, wraps: [Scope: [UInt32: Int]]) {
        self.schemaVersion = schemaVersion
        self.recordCount = recordCount
        self.wraps = wraps
    }
}

/// The manifest sealed as the final chunk of a backup (SECURITY.md §3.20): when and from which
/// store it was taken, the schema version, which scope key versions its consent wraps need, how
/// many records it holds, and the length and SHA-256 of the data stream before it.
public struct BackupManifest: Sendable, Equatable {
    /// Which store the data stream came from, and so how to restore it.
    public enum Store: UInt8, Sendable, CustomStringConvertible {
        /// A SQLite database file (the data stream is the file itself).
        case sqlite = 1
        /// A `pg_dump --format=custom` archive of the schema `hearth`.
        case postgresql = 2

        public var description: String { self == .sqlite ? "sqlite" : "postgresql" }
    }

    /// One scope key version the backup's consent wraps are sealed to.
    public struct KeyVersion: Sendable, Equatable {
        /// The scope.
        public let scope: Scope
        /// The key version.
        public let version: UInt32
        /// Consent wraps sealed to it.
        public let wraps: UInt32

        /// One entry.
        public init(scope: Scope, version: UInt32, wraps: UInt32) {
            self.scope = scope
            self.version = version
            self.wraps = wraps
        }
    }

    static let magic = Array("HRTHBMF1".utf8)
    /// Bytes before the key version entries.
    static let fixedByteCount = 70

    /// When the snapshot was taken (unix seconds).
    public var created: Int64
    /// The store.
    public var store: Store
    /// The store's schema version.
    public var schemaVersion: UInt32
    /// Records in the snapshot.
    public var recordCount: UInt64
    /// Length of the data stream.
    public var dataByteCount: UInt64
    /// SHA-256 of the data stream.
    public var dataSHA256: [UInt8]
    /// Key versions in use, ascending by scope id then version.
    public var keyVersions: [KeyVersion]

    /// A manifest for `figures` and a data stream of `dataByteCount` bytes hashing to `dataSHA256`.
    public init(created: Int64, store: Store, figures: BackupFigures, dataByteCount: UInt64, dataSHA256: [UInt8]) {
        self.created = created
        self.store = store
        schemaVersion = UInt32(clamping: figures.schemaVersion)
        recordCount = UInt64(clamping: figures.recordCount)
        self.dataByteCount = dataByteCount
        self.dataSHA256 = dataSHA256
        keyVersions = figures.wraps.flatMap { scope, versions in
            versions.map { KeyVersion(scope: scope, version: $0.key, wraps: UInt32(clamping: $0.value)) }
        }.sorted { ($0.scope.id, $0.version) < ($1.scope.id, $1.version) }
    }

    /// The manifest's bytes (§3.20).
    public func encoded() -> [UInt8] {
        var out = Self.magic + UInt64(bitPattern: created).bigEndianBytes8 + [store.rawValue] + schemaVersion.bigEndianBytes
        out += recordCount.bigEndianBytes8 + dataByteCount.bigEndianBytes8 + dataSHA256 + [UInt8(keyVersions.count)]
        for k in keyVersions { out += [k.scope.id] + k.version.bigEndianBytes + k.wraps.bigEndianBytes }
        return out
    }

    /// Decodes a manifest, refusing anything non-canonical (`malformed-input`).
    public init(decoding bytes: [UInt8]) throws {
        func bad(_ why: String) -> CryptoError { CryptoError(.malformedInput, "the backup manifest is malformed: \(why)") }
        guard bytes.count >= Self.fixedByteCount, Array(bytes[0..<8]) == Self.magic else { throw bad("no HRTHBMF1 header") }
        func u64(_ at: Int) -> UInt64 { bytes[at..<at + 8].reduce(0) { $0 << 8 | UInt64($1) } }
        func u32(_ at: Int) -> UInt32 { bytes[at..<at + 4].reduce(0) { $0 << 8 | UInt32($1) } }
        created = Int64(bitPattern: u64(8))
        guard let store = Store(rawValue: bytes[16]) else { throw bad("unknown store \(bytes[16])") }
        self.store = store
        schemaVersion = u32(17)
        recordCount = u64(21)
        dataByteCount = u64(29)
        dataSHA256 = Array(bytes[37..<69])
        let n = Int(bytes[69])
        guard bytes.count == Self.fixedByteCount + 9 * n else { throw bad("its length does not match its \(n) key versions") }
        var entries: [KeyVersion] = []
        for i in 0..<n {
            let at = Self.fixedByteCount + 9 * i
            guard let scope = Scope(id: bytes[at]) else { throw bad("unknown scope id \(bytes[at])") }
            let entry = KeyVersion(scope: scope, version: u32(at + 1), wraps: u32(at + 5))
            if let last = entries.last, (last.scope.id, last.version) >= (scope.id, entry.version) {
                throw bad("key versions out of order")
            }
            entries.append(entry)
        }
        keyVersions = entries
    }

    /// Key versions as `support.v1 (12 wraps)`, for people.
    public var keyVersionSummary: [String] {
        keyVersions.map { "\($0.scope.rawValue).v\($0.version) (\($0.wraps) wraps)" }
    }
}

/// Reading a whole sealed backup (SECURITY.md §3.20): every chunk authenticated in order, the
/// final chunk present and last, the manifest canonical, and the data's length and SHA-256 equal
/// to the manifest's.
public enum BackupFile {
    /// Reads `reader` to its end, passing each authenticated data chunk to `data`, and returns the
    /// manifest. Throws ``CryptoError`` (`truncated`, `authentication-failed`, `malformed-input`,
    /// `manifest-mismatch`); `data` sees only authenticated bytes, but a caller that must not act
    /// on a backup that later fails should read it twice (verify, then use).
    public static func read(_ reader: BackupStreamReader, data: ([UInt8]) throws -> Void) throws -> BackupManifest {
        var manifest: BackupManifest?
        while let chunk = try reader.next() {
            switch chunk {
            case .data(let bytes): try data(bytes)
            case .final(let bytes): manifest = try BackupManifest(decoding: bytes)
            }
        }
        guard let manifest, let digest = reader.dataSHA256 else { throw CryptoError(.truncated, "the backup has no final chunk") }
        guard manifest.dataByteCount == reader.dataByteCount, Sodium.constantTimeEqual(manifest.dataSHA256, digest) else {
            throw CryptoError(
                .manifestMismatch,
                "the data (\(reader.dataByteCount) bytes) does not match the manifest's length (\(manifest.dataByteCount)) and SHA-256")
        }
        return manifest
    }
}
