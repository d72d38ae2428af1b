// libFuzzer target: the PROXY protocol v1 header reader of the Tor listener (issue 11, item 2).
//
// TODO(lead): not built yet. `ProxyHeader.parse(_ bytes: [UInt8])` comes with the `net` branch;
// once it is on main, add "FuzzProxyHeader" to `fuzzTargets` in Package.swift and to the target
// list in Tests/Fuzz/run.sh, and adjust the two checks below to the type's real shape (they assume
// a nil or a thrown error for anything that is not one complete header).
//
// Any bytes: the reader never traps; a header it accepts ends with CRLF within the 107 bytes the
// specification allows.
import HearthHTTP

func fuzzProxyHeader(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    guard (try? ProxyHeader.parse(bytes)) != nil else { return 0 }
    precondition(bytes.starts(with: Array("PROXY ".utf8)), "a PROXY header was accepted without its signature")
    precondition(bytes.firstRange(of: [13, 10]).map { $0.upperBound <= 107 } ?? false, "a PROXY header longer than 107 bytes was accepted")
    return 0
}
