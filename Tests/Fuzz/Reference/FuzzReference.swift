// libFuzzer target: the receipt and case reference parsers (Crockford base32 with a Luhn mod 32
// check symbol, and `HR-` references).
//
// Any text: parsing never traps; whatever parses prints in canonical form, and that form parses
// back to the same secret (receipt: the same lookup id) or the same record id.
import HearthCore

func fuzzReference(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    let text = String(decoding: bytes, as: UTF8.self)
    if let receipt = Receipt(parsing: text) {
        let shown = receipt.displayed
        guard let again = Receipt(parsing: shown) else { fatalError("a parsed receipt does not parse in its displayed form") }
        precondition(again.displayed == shown, "a receipt's displayed form is not canonical")
        precondition((try? again.lookupID()) == (try? receipt.lookupID()), "a receipt round trip changed its lookup id")
    }
    if let id = RecordID(reference: text) {
        precondition(id.bytes.count == RecordID.byteCount, "a parsed reference is not 10 bytes")
        precondition(RecordID(reference: id.reference) == id, "a reference round trip changed the record id")
    }
    return 0
}
