import HearthCore
import HearthCrypto
import HearthTestSupport
import Testing

/// Hearth's own writer (SECURITY.md §3.20) at its 64 KiB chunk size; the vectors in `Vectors/`
/// pin the format against an independent implementation.
@Suite("Sealed backup stream")
struct BackupStreamTests {
    static func sealed(_ data: [UInt8], to key: X25519PublicKey) throws -> [UInt8] {
        var out: [UInt8] = []
        let writer = try BackupStreamWriter(recipient: key) { out += $0 }
        // In uneven pieces, as a dump arrives.
        var offset = 0
        while offset < data.count {
            let n = min(10_007, data.count - offset)
            try writer.write(Array(data[offset..<offset + n]))
            offset += n
        }
        try writer.finish { length, digest in
            BackupManifest(
                created: 1, store: .sqlite, figures: BackupFigures(schemaVersion: 3, recordCount: 7, wraps: [.support: [1: 7]]),
                dataByteCount: length, dataSHA256: digest
            ).encoded()
        }
        return out
    }

    static func open(_ file: [UInt8], with key: borrowing X25519PrivateKey) throws -> ([UInt8], BackupManifest) {
        var rest = file[...]
        let reader = try BackupStreamReader(privateKey: key) { count in
            let part = Array(rest.prefix(count))
            rest = rest.dropFirst(part.count)
            return part
        }
        var data: [UInt8] = []
        let manifest = try BackupFile.read(reader) { data += $0 }
        return (data, manifest)
    }

    @Test("200 KB in 64 KiB chunks opens to the same bytes and manifest")
    func roundTrip() throws {
        let key = try X25519PrivateKey.generate()
        let data = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let file = try Self.sealed(data, to: key.publicKey)
        // Header, four data chunks (3 full, 1 short) and the manifest, each with a 5-byte prefix and a tag.
        #expect(file.count == BackupStream.headerByteCount + data.count + 79 + 5 * (5 + 16))
        let (opened, manifest) = try Self.open(file, with: key)
        #expect(opened == data)
        #expect(manifest.recordCount == 7 && manifest.keyVersions == [.init(scope: .support, version: 1, wraps: 7)])
    }

    @Test("every single header byte altered is refused")
    func everyHeaderByteIsBound() throws {
        let key = try X25519PrivateKey.generate()
        let file = try Self.sealed(Array(repeating: 0x41, count: 70_000), to: key.publicKey)
        for index in 0..<BackupStream.headerByteCount {
            #expect(throws: CryptoError.self, "header byte \(index)") { _ = try Self.open(flipping(file, at: index), with: key) }
        }
    }

    @Test("a backup for one key does not open with another")
    func wrongKey() throws {
        let file = try Self.sealed([1, 2, 3], to: try X25519PrivateKey.generate().publicKey)
        let other = try X25519PrivateKey.generate()
        #expect(throws: CryptoError(.wrongKey, "")) { _ = try Self.open(file, with: other) }
    }
}
