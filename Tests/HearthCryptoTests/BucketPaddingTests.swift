import HearthCrypto
import HearthTestSupport
import Testing

@Suite("Bucket padding")
struct BucketPaddingTests {
    @Test(arguments: [
        (0, 1024), (1, 1024), (1023, 1024), (1024, 2048), (2047, 2048), (2048, 4096),
        (65_535, 65_536), (65_536, 131_072), (131_071, 131_072),
    ])
    func messageLengthMapsToTheSmallestBucketWithRoomForOnePaddingByte(length: Int, bucket: Int) throws {
        #expect(try BucketPadding.bucket(forLength: length) == bucket)
    }

    @Test(arguments: [131_072, 131_073, 1_000_000])
    func messageTooLongForTheLargestBucketIsRefused(length: Int) {
        #expect(cryptoErrorCode { _ = try BucketPadding.bucket(forLength: length) } == .malformedInput)
        #expect(cryptoErrorCode { _ = try BucketPadding.pad(SecretBytes(zeroedCount: length)) } == .malformedInput)
    }

    @Test(arguments: [0, 1, 100, 1023, 1024, 5000, 131_071])
    func padThenUnpadReturnsTheMessage(length: Int) throws {
        let message = (0..<length).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let padded = try BucketPadding.pad(SecretBytes(copying: message))
        #expect(padded.count == (try BucketPadding.bucket(forLength: length)))
        let unpadded = try BucketPadding.unpad(padded)
        #expect(unpadded.unsafeExportedBytes() == message)
    }

    @Test func paddingIsA0x80MarkerThenZeros() throws {
        let padded = try BucketPadding.pad(secret("abc")).unsafeExportedBytes()
        #expect(Array(padded[0..<3]) == Array("abc".utf8))
        #expect(padded[3] == 0x80)
        #expect(padded[4...].allSatisfy { $0 == 0 })
    }

    @Test(arguments: [0, 1, 1000, 1023, 1025, 1536, 3072, 262_144])
    func unpadRefusesSizesThatAreNotBuckets(size: Int) {
        #expect(cryptoErrorCode { _ = try BucketPadding.unpad(SecretBytes(zeroedCount: size)) } == .malformedInput)
    }

    @Test func unpadRefusesABucketOfZerosWithNoMarker() {
        #expect(cryptoErrorCode { _ = try BucketPadding.unpad(SecretBytes(zeroedCount: 1024)) } == .malformedInput)
    }

    @Test func unpadRefusesANonZeroByteAfterTheMarker() throws {
        var bytes = try BucketPadding.pad(secret("abc")).unsafeExportedBytes()
        bytes[1023] = 0x01
        #expect(cryptoErrorCode { _ = try BucketPadding.unpad(SecretBytes(copying: bytes)) } == .malformedInput)
    }

    @Test func unpadRefusesAMarkerOtherThan0x80() throws {
        var bytes = try BucketPadding.pad(secret("abc")).unsafeExportedBytes()
        bytes[3] = 0x81
        #expect(cryptoErrorCode { _ = try BucketPadding.unpad(SecretBytes(copying: bytes)) } == .malformedInput)
    }
}
