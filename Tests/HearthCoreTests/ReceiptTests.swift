import Foundation
import HearthCore
import HearthTestSupport
import Testing

@Suite("Receipts")
struct ReceiptTests {
    /// SECURITY.md §3.8, informative example: data `ABCDEFGHJKMNPQRSTVWXYZ01234` has check `9`.
    let specExample = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2349"

    @Test func generatedReceiptSurvivesDisplayAndParse() throws {
        let receipt = try Receipt.generate()
        let parsed = try #require(Receipt(parsing: receipt.displayed))
        #expect(parsed.displayed == receipt.displayed)
        #expect(try parsed.lookupID() == receipt.lookupID())
    }

    @Test func displayedFormIsSevenGroupsOfFourCrockfordSymbols() throws {
        for _ in 0..<50 {
            let shown = try Receipt.generate().displayed
            let groups = shown.split(separator: "-", omittingEmptySubsequences: false)
            #expect(groups.count == 7)
            #expect(groups.allSatisfy { $0.count == 4 && $0.allSatisfy(crockfordAlphabet.contains) }, "\(shown)")
        }
    }

    @Test func specificationExamplesAreValid() throws {
        #expect(luhn32Check("ABCDEFGHJKMNPQRSTVWXYZ01234".map { crockfordAlphabet.firstIndex(of: $0)! }) == 9)
        #expect(Receipt(parsing: specExample)?.displayed == specExample)
        // 26 zeros followed by 1 give check Y.
        let zerosThenOne = String(repeating: "0", count: 26) + "1Y"
        #expect(Receipt(parsing: zerosThenOne) != nil)
    }

    @Test func lookupIDMatchesAnIndependentBlake2bComputation() throws {
        // Computed with Python: hashlib.blake2b(b"hearth/v1/receipt-lookup",
        //   key=b"ABCDEFGHJKMNPQRSTVWXYZ01234", digest_size=32).hexdigest()
        let receipt = try #require(Receipt(parsing: specExample))
        #expect(hex(try receipt.lookupID()) == "d3d52abf3c7c9256b2b0d7ffd0865d985b9c3b54750bf27f236316b1afb72f06")
    }

    @Test func parsingIsCaseInsensitive() throws {
        let receipt = try Receipt.generate()
        let lower = try #require(Receipt(parsing: receipt.displayed.lowercased()))
        #expect(try lower.lookupID() == receipt.lookupID())
        #expect(lower.displayed == receipt.displayed)
    }

    @Test func parsingIgnoresSpacesAndHyphens() throws {
        let receipt = try Receipt.generate()
        let bare = receipt.displayed.filter { $0 != "-" }
        let spaced = receipt.displayed.replacingOccurrences(of: "-", with: " ")
        let messy = "  " + bare.map { "\($0)-" }.joined() + " "
        for text in [bare, spaced, messy] {
            #expect(Receipt(parsing: text)?.displayed == receipt.displayed, "\(text)")
        }
    }

    @Test func parsingReadsOAsZeroAndIAndLAsOne() throws {
        // The spec example holds both 0 and 1 in its sixth group: "YZ01".
        let canonical = try #require(Receipt(parsing: specExample))
        for variant in ["YZO1", "YZoI", "YZ0i", "YZOL", "YZ0l"] {
            let text = specExample.replacingOccurrences(of: "YZ01", with: variant)
            let parsed = try #require(Receipt(parsing: text), "\(variant)")
            #expect(parsed.displayed == specExample)
            #expect(try parsed.lookupID() == canonical.lookupID())
        }
    }

    @Test func everySingleSymbolSubstitutionIsRejected() throws {
        for displayed in [specExample, try Receipt.generate().displayed, try Receipt.generate().displayed] {
            let symbols = Array(displayed.filter { $0 != "-" })
            #expect(symbols.count == 28)
            var rejected = 0
            for position in symbols.indices {
                for substitute in crockfordAlphabet where substitute != symbols[position] {
                    var altered = symbols
                    altered[position] = substitute
                    let parsed = Receipt(parsing: String(altered))
                    #expect(parsed == nil, "\(String(altered)) (position \(position)) was accepted")
                    if parsed == nil { rejected += 1 }
                }
            }
            #expect(rejected == 28 * 31)
        }
    }

    @Test func adjacentTranspositionsOfDistinctSymbolsAreRejectedExceptZeroAndZ() throws {
        // Exhaustive over every ordered pair of distinct values at every adjacent position pair,
        // the last pair being (last data symbol, check symbol). 0 <-> Z is excluded here: see
        // `adjacentSwapOfZeroAndZIsAKnownBlindSpot`.
        let filler = (0..<27).map { ($0 * 7 + 3) % 32 }
        for position in 0..<27 {
            for a in 0..<32 {
                for b in 0..<32 where a != b && !(Set([a, b]) == [0, 31]) {
                    let (text, swapped) = transposition(of: a, b, at: position, in: filler)
                    guard let text, let swapped else { continue }
                    #expect(Receipt(parsing: text) != nil, "\(text) should be valid")
                    #expect(Receipt(parsing: swapped) == nil, "\(swapped) (swap at \(position)) was accepted")
                }
            }
        }
    }

    @Test func adjacentSwapOfZeroAndZIsAKnownBlindSpot() throws {
        // Luhn mod N cannot detect swapping the symbols with values 0 and N-1 (here 0 and Z):
        // doubling and folding maps 0 -> 0 and 31 -> 31, so both orders give the same sum.
        // Closing the gap needs another check (e.g. Damm, or ISO 7064 MOD 37,36) and so a format
        // change; this test pins the gap down so a change to the check shows up here.
        let filler = (0..<27).map { ($0 * 7 + 3) % 32 }
        let (text, swapped) = transposition(of: 0, 31, at: 10, in: filler)
        let original = try #require(text)
        let transposed = try #require(swapped)
        #expect(Receipt(parsing: original) != nil)
        // The documented limit (SECURITY.md §3.8): Luhn mod 32 cannot see this one swap. The
        // swapped receipt has the same check symbol, so it parses, and is simply another
        // receipt: its lookup id differs, so it finds no record (a 401, never someone else's).
        let swappedReceipt = try #require(Receipt(parsing: transposed))
        #expect(try swappedReceipt.lookupID() != (try #require(Receipt(parsing: original))).lookupID())
    }

    /// A valid receipt with values `a, b` at `position, position + 1` (where `position + 1` may be
    /// the check symbol) and the same text with them swapped; nil when the check symbol cannot be `b`.
    private func transposition(of a: Int, _ b: Int, at position: Int, in filler: [Int]) -> (String?, String?) {
        var values = filler
        values[position] = a
        if position + 1 < 27 {
            values[position + 1] = b
        } else {
            // The pair is (last data symbol, check symbol): search for filler that makes the check equal b.
            var found = false
            for tweak in 0..<32 {
                values[0] = tweak
                if luhn32Check(values) == b {
                    found = true
                    break
                }
            }
            if !found { return (nil, nil) }
        }
        var symbols = Array(displayedReceipt(values: values).filter { $0 != "-" })
        let text = String(symbols)
        symbols.swapAt(position, position + 1)
        return (text, String(symbols))
    }

    @Test(arguments: [
        "", "ABCD", "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-234", "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-23490",
        "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2349-ABCD", "----",
    ])
    func wrongLengthIsRejected(text: String) {
        #expect(Receipt(parsing: text) == nil)
    }

    @Test(arguments: ["U", "*", "_", ".", "\t", "\n", "é", "Ｚ", "\u{0}", "🔑", "/"])
    func foreignCharacterIsRejected(character: String) {
        // Replace one symbol, and also insert the character, so neither length nor check hides the cause.
        let example = "ABCD-EFGH-JKMN-PQRS-TVWX-YZ01-2349"
        #expect(Receipt(parsing: example.replacingOccurrences(of: "Y", with: character)) == nil)
        #expect(Receipt(parsing: example.replacingOccurrences(of: "-Y", with: "-\(character)Y")) == nil)
    }

    @Test func lookupIDIsStableForTheSameReceipt() throws {
        let receipt = try Receipt.generate()
        let again = try #require(Receipt(parsing: receipt.displayed))
        #expect(try receipt.lookupID() == receipt.lookupID())
        #expect(try receipt.lookupID() == again.lookupID())
        #expect(try receipt.lookupID().count == 32)
    }

    @Test func lookupIDDiffersBetweenReceipts() throws {
        let ids = try (0..<20).map { _ in try Receipt.generate().lookupID() }
        #expect(Set(ids.map(hex)).count == 20)
    }

    @Test func generatedReceiptsDiffer() throws {
        let shown = try (0..<50).map { _ in try Receipt.generate().displayed }
        #expect(Set(shown).count == 50)
    }
}

@Suite("Receipts stay out of printed output")
struct ReceiptPrintingTests {
    @Test func interpolatingOrDumpingAReceiptShowsNoSymbols() throws {
        let receipt = try Receipt.generate()
        let secretPart = String(receipt.displayed.filter { $0 != "-" }.prefix(27))
        var dumped = ""
        dump(receipt, to: &dumped)
        for text in ["\(receipt)", String(describing: receipt), String(reflecting: receipt), dumped, "\(Optional(receipt) as Any)"] {
            #expect(!text.contains(secretPart), "\(text)")
            #expect(!text.contains(String(secretPart.prefix(8))), "\(text)")
        }
    }
}
