import HearthCore
import HearthCrypto

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Low-level, careful file operations for key material.
public enum SecureFile {
    /// Writes a new file with `O_CREAT|O_EXCL|O_NOFOLLOW`, mode 0600, and fsyncs it and its directory.
    public static func createExclusive(_ path: String, contents: [UInt8]) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw KeyFileError(
                path: path, reason: "cannot create it (\(String(cString: strerror(errno))))",
                hint: errno == EEXIST ? "a key file is never overwritten; move the old one away first" : "check the directory exists and is writable")
        }
        defer { close(fd) }
        var offset = 0
        while offset < contents.count {
            let n = contents.withUnsafeBytes { write(fd, $0.baseAddress! + offset, contents.count - offset) }
            guard n > 0 else {
                throw KeyFileError(path: path, reason: "cannot write it", hint: "check free disk space")
            }
            offset += n
        }
        guard fsync(fd) == 0 else { throw KeyFileError(path: path, reason: "cannot fsync it", hint: "check the disk") }
        syncDirectory(of: path)
    }

    /// Fsyncs the directory holding `path`, so a new name survives power loss.
    public static func syncDirectory(of path: String) {
        let dir = path.contains("/") ? String(path[..<path.lastIndex(of: "/")!]) : "."
        let dfd = open(dir.isEmpty ? "/" : dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dfd >= 0 {
            _ = fsync(dfd)
            close(dfd)
        }
    }

    /// Reads a key file after checking it is a regular file (not a link) that group and others can
    /// neither read nor write. `maxBytes` bounds what is read.
    public static func readKeyFile(_ path: String, maxBytes: Int = 64 * 1024) throws -> [UInt8] {
        var st = stat()
        guard lstat(path, &st) == 0 else {
            throw KeyFileError(
                path: path, reason: "it is missing",
                hint: "create keys with `hearth keys init --dir DIR`, or point --keys at the right directory")
        }
        guard (st.st_mode & S_IFMT) == S_IFREG else {
            throw KeyFileError(path: path, reason: "it is not a regular file", hint: "replace it with the real key file")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw KeyFileError(
                path: path, reason: "it is readable or writable by group or others (mode \(String(st.st_mode & 0o777, radix: 8)))",
                hint: "run `chmod 600 \(path)` and check who could have copied it")
        }
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)
        guard fd >= 0 else {
            throw KeyFileError(path: path, reason: "it cannot be opened", hint: "check its owner and mode")
        }
        defer { close(fd) }
        var out = [UInt8](repeating: 0, count: maxBytes + 1)
        var total = 0
        while total <= maxBytes {
            let n = out.withUnsafeMutableBytes { read(fd, $0.baseAddress! + total, maxBytes + 1 - total) }
            if n <= 0 { break }
            total += n
        }
        guard total <= maxBytes else {
            throw KeyFileError(path: path, reason: "it is far larger than any key file", hint: "replace it with the real key file")
        }
        return Array(out[0..<total])
    }

    /// Refuses a directory that group or others may write to (they could swap keys).
    public static func checkDirectory(_ path: String) throws {
        var st = stat()
        guard stat(path, &st) == 0, (st.st_mode & S_IFMT) == S_IFDIR else {
            throw KeyFileError(
                path: path, reason: "the key directory is missing",
                hint: "create keys with `hearth keys init --dir \(path)`, or run `hearth serve --dev`")
        }
        guard st.st_mode & 0o077 == 0 else {
            throw KeyFileError(
                path: path, reason: "the key directory is open to group or others (mode \(String(st.st_mode & 0o777, radix: 8)))",
                hint: "run `chmod 700 \(path)`")
        }
    }

    /// The names of the entries in a directory.
    public static func list(_ path: String) -> [String] {
        guard let d = opendir(path) else { return [] }
        defer { closedir(d) }
        var names: [String] = []
        while let e = readdir(d) {
            let name = withUnsafeBytes(of: e.pointee.d_name) { raw in
                String(decoding: raw.prefix { $0 != 0 }, as: UTF8.self)
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names.sorted()
    }
}
