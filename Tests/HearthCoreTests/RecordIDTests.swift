import HearthCore
import HearthTestSupport
import Testing

@Suite("Record ids and case references")
struct RecordIDTests {
    @Test func referenceRoundTripsToTheSameID() throws {
        for _ in 0..<100 {
            let id = try RecordID.random()
            #expect(RecordID(reference: id.reference) == id)
        }
    }

    @Test func specificationExampleEncodesAsDocumented() throws {
        // SECURITY.md §3.2: id 0102030405060708090a is HR-0410-6105-0R3G-G28A.
        let id = try #require(RecordID(bytes: bytes(hex: "0102030405060708090a")!))
        #expect(id.reference == "HR-0410-6105-0R3G-G28A")
        #expect(RecordID(reference: "HR-0410-6105-0R3G-G28A") == id)
    }

    @Test func referenceIsHRAndFourGroupsOfFourCrockfordSymbols() throws {
        let reference = try RecordID.random().reference
        #expect(reference.hasPrefix("HR-"))
        let groups = reference.dropFirst(3).split(separator: "-", omittingEmptySubsequences: false)
        #expect(groups.count == 4)
        #expect(groups.allSatisfy { $0.count == 4 && $0.allSatisfy(crockfordAlphabet.contains) })
    }

    @Test func allZeroAndAllOneIDsRoundTrip() throws {
        let zeros = try #require(RecordID(bytes: [UInt8](repeating: 0, count: 10)))
        let ones = try #require(RecordID(bytes: [UInt8](repeating: 0xFF, count: 10)))
        #expect(zeros.reference == "HR-0000-0000-0000-0000")
        #expect(ones.reference == "HR-ZZZZ-ZZZZ-ZZZZ-ZZZZ")
        #expect(RecordID(reference: ones.reference) == ones)
    }

    @Test(arguments: ["hr-0410-6105-0r3g-g28a", "HR041061050R3GG28A", "HR-O410-61O5-OR3G-G28A", "hr-04l0-6io5-0r3g-g28a"])
    func referenceParsingAcceptsCaseHyphenAndAliasVariants(text: String) throws {
        let expected = try #require(RecordID(bytes: bytes(hex: "0102030405060708090a")!))
        #expect(RecordID(reference: text) == expected)
    }

    @Test(arguments: [
        "", "HR-", "HR-0410-6105-0R3G-G28", "HR-0410-6105-0R3G-G28A0", "0410-6105-0R3G-G28A", "XR-0410-6105-0R3G-G28A",
        "HR-0410-6105-0R3G-G28U", "HR-0410-6105-0R3G-G28*", "HR-0410-6105-0R3G G28A",
    ])
    func malformedReferenceIsRejected(text: String) {
        #expect(RecordID(reference: text) == nil)
    }

    @Test(arguments: ["HR-04\u{131}0-6105-0R3G-G28A", "HR-0410-6105-0R3G-G28\u{FF21}", "HR-0410-6105-0R3G-G28A\u{301}"])
    func nonASCIILookAlikesAreRejected(text: String) {
        // U+0131 'ı' upper-cases to 'I' (read as 1); U+FF21 is a full-width 'A'; U+0301 a combining accent.
        #expect(RecordID(reference: text) == nil)
    }

    @Test func everyEncodingIsCanonicalBecauseEightyBitsFillSixteenSymbolsExactly() throws {
        // 10 bytes = 80 bits = 16 symbols of 5 bits: there are no padding bits that could be
        // non-zero, so the only non-canonical spellings are the documented case/alias variants.
        #expect(RecordID.byteCount * 8 % 5 == 0)
        for _ in 0..<100 {
            let id = try RecordID.random()
            let reparsed = try #require(RecordID(reference: id.reference.lowercased()))
            #expect(reparsed.reference == id.reference)
        }
    }

    @Test(arguments: [0, 9, 11, 32])
    func idOfTheWrongByteCountIsRejected(count: Int) {
        #expect(RecordID(bytes: [UInt8](repeating: 1, count: count)) == nil)
    }
}
