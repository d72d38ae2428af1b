// libFuzzer target: the PROXY protocol v1 header reader of the Tor onion listener (issue 11, item 2).
//
// Any bytes: the reader never traps; a header it accepts starts with the signature, ends with CRLF
// within the 107 bytes the specification allows, and says how many bytes it took; a prefix of a
// header it accepts is only ever incomplete, never accepted.
import HearthHTTP

func fuzzProxyHeader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard case .header(_, let length) = ProxyHeader.parse(bytes) else { return 0 }
    precondition(bytes.starts(with: Array("PROXY ".utf8)), "a PROXY header was accepted without its signature")
    precondition(length <= ProxyHeader.maximumLength && length >= 2, "a header of \(length) bytes was accepted")
    precondition(bytes[length - 2] == 13 && bytes[length - 1] == 10, "an accepted header does not end with CRLF")
    if case .header = ProxyHeader.parse(bytes[..<(length - 1)]) { preconditionFailure("a header cut short was accepted") }
    return 0
}
