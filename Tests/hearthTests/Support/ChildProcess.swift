import CSpawn
import Foundation
import HearthTestSupport
import Synchronization

/// Bytes a child process writes to one pipe, read on a dedicated thread so a full pipe can
/// never block the child (or the test). The descriptor is closed at end of file.
final class OutputCollector: Sendable {
    private let state = Mutex<(bytes: [UInt8], finished: Bool)>(([], false))

    init(reading fd: Int32) {
        let thread = Thread { [self] in
            var buffer = [UInt8](repeating: 0, count: 64 * 1024)
            while true {
                let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { break }
                state.withLock { $0.bytes += buffer[0..<n] }
            }
            close(fd)
            state.withLock { $0.finished = true }
        }
        thread.start()
    }

    /// Everything read so far.
    var bytes: [UInt8] { state.withLock { $0.bytes } }
    /// Everything read so far, as text.
    var text: String { String(decoding: bytes, as: UTF8.self) }
    /// Whether the pipe reached end of file.
    var finished: Bool { state.withLock { $0.finished } }

    /// After the child has exited: waits until end of file (bounded; a grandchild could still
    /// hold the write end).
    func drain() async {
        let deadline = ContinuousClock.now + .seconds(3)
        while !finished && ContinuousClock.now < deadline {
            await pause(.milliseconds(10))
        }
    }
}

/// Sleeps without throwing; falls back to a short blocking sleep once the task is cancelled, so
/// clean-up loops stay bounded by their own deadlines instead of spinning.
func pause(_ duration: Duration) async {
    do {
        try await Task.sleep(for: duration)
    } catch {
        usleep(10_000)
    }
}

struct ChildProcessError: Error, CustomStringConvertible {
    let description: String
}

/// A child process (normally `hearth`) with its stdout and stderr collected in memory.
/// It is killed when released if still running, so a failing test never leaves it behind.
///
/// Spawned with posix_spawn rather than Foundation's `Process`: the child inherits nothing but
/// its three standard descriptors (close-from, not one close action per open descriptor, which
/// crashed `Process.run` once the parallel test process held more than a thousand).
final class ChildProcess: Sendable {
    let pid: pid_t
    let stdout: OutputCollector
    let stderr: OutputCollector
    let commandLine: String
    /// The wait status once the child has been reaped.
    private let waitStatus = Mutex<Int32?>(nil)

    /// `arguments`, plus `--metrics-port 0` for a listener command that names no metrics port:
    /// the suite runs many servers at once, and the fixed default ports (9464, 9465) would collide
    /// (with each other and with anyone's development server on this host).
    static func withFreeMetricsPort(_ arguments: [String]) -> [String] {
        guard ["serve", "intake", "casework"].contains(arguments.first ?? ""),
            !arguments.contains(where: { $0 == "--metrics-port" || $0 == "--no-metrics" })
        else { return arguments }
        return arguments + ["--metrics-port", "0"]
    }

    /// `arguments`, plus budgets no test reaches and no disk guard for `serve` and `intake` when
    /// they set no flood control themselves: these tests submit many records from one address,
    /// on whatever disk the machine has.
    static func withLiftedSubmissionLimits(_ arguments: [String]) -> [String] {
        let flags = ["--source-submissions", "--submissions", "--min-free-disk", "--max-database-size"]
        guard ["serve", "intake"].contains(arguments.first ?? ""), !arguments.contains(where: flags.contains) else { return arguments }
        return arguments + ["--source-submissions", "1000000", "--submissions", "1000000", "--min-free-disk", "0"]
    }

    /// Starts `executable` (default: the built `hearth`) in `directory`, stdin from /dev/null.
    /// A listener command gets a free metrics port unless it names one (``withFreeMetricsPort(_:)``)
    /// and lifted submission limits unless it sets some (``withLiftedSubmissionLimits(_:)``).
    init(
        _ arguments: [String], in directory: String, executable: String = hearthExecutablePath(),
        environment: [String: String] = [:]
    ) throws {
        let environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let outPipe = try Self.pipe()
        let errPipe = try Self.pipe()
        let devNull = open("/dev/null", O_RDONLY | O_CLOEXEC)
        defer {
            close(outPipe.write)
            close(errPipe.write)
            if devNull >= 0 { close(devNull) }
        }
        guard devNull >= 0 else {
            close(outPipe.read)
            close(errPipe.read)
            throw ChildProcessError(description: "cannot open /dev/null: errno \(errno)")
        }
        let argv = [executable] + Self.withLiftedSubmissionLimits(Self.withFreeMetricsPort(arguments))
        let envp = environment.map { "\($0.key)=\($0.value)" }
        var child: pid_t = 0
        let result = withCStrings(argv) { argvPointers in
            withCStrings(envp) { envpPointers in
                hearth_spawn(&child, executable, argvPointers, envpPointers, directory, devNull, outPipe.write, errPipe.write)
            }
        }
        guard result == 0 else {
            close(outPipe.read)
            close(errPipe.read)
            throw ChildProcessError(description: "cannot start \(executable): \(String(cString: strerror(result)))")
        }
        pid = child
        stdout = OutputCollector(reading: outPipe.read)
        stderr = OutputCollector(reading: errPipe.read)
        commandLine = ([URL(fileURLWithPath: executable).lastPathComponent] + arguments).joined(separator: " ")
    }

    deinit {
        if isRunning {
            kill(pid, SIGKILL)
            var status: Int32 = 0
            while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        }
    }

    private static func pipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [-1, -1]
        guard hearth_pipe_cloexec(&fds) == 0 else { throw ChildProcessError(description: "pipe2 failed: errno \(errno)") }
        return (fds[0], fds[1])
    }

    /// Whether the child is still running (reaps it, without blocking, once it has exited).
    var isRunning: Bool {
        waitStatus.withLock { reaped in
            if reaped != nil { return false }
            var status: Int32 = 0
            let r = waitpid(pid, &status, WNOHANG)
            if r == pid {
                reaped = status
                return false
            }
            return r == 0 || (r < 0 && errno == EINTR)
        }
    }

    /// Waits up to `timeout` for the process to exit; true if it has.
    @discardableResult
    func waitForExit(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while isRunning {
            if ContinuousClock.now >= deadline { return false }
            await pause(.milliseconds(20))
        }
        return true
    }

    /// Sends a signal if the process is still running.
    func signal(_ sig: Int32) {
        if isRunning { kill(pid, sig) }
    }

    /// SIGTERM, then SIGKILL if it has not exited within `grace`; every wait is bounded.
    func stop(grace: Duration = .seconds(10)) async {
        guard isRunning else { return }
        signal(SIGTERM)
        if await waitForExit(timeout: grace) { return }
        signal(SIGKILL)
        await waitForExit(timeout: .seconds(10))
    }

    /// How it ended, once it has.
    struct Outcome: CustomStringConvertible {
        enum Reason { case exit, uncaughtSignal }
        /// The exit status, or the signal number that ended it.
        let status: Int32
        let reason: Reason
        let stdout: String
        let stderr: String

        var exitedNormally: Bool { reason == .exit }
        var succeeded: Bool { reason == .exit && status == 0 }
        var description: String {
            "\(reason == .exit ? "exit status" : "killed by signal") \(status)\n--- stdout ---\n\(stdout)\n--- stderr ---\n\(stderr)"
        }
    }

    /// The outcome after the process has exited (drains both pipes first).
    func outcome() async -> Outcome {
        await stdout.drain()
        await stderr.drain()
        _ = isRunning
        let status = waitStatus.withLock { $0 } ?? 0
        // Wait status layout (wait(2)): low 7 bits are the terminating signal, 0 for a normal exit.
        let signal = status & 0x7f
        return Outcome(
            status: signal == 0 ? (status >> 8) & 0xff : signal, reason: signal == 0 ? .exit : .uncaughtSignal, stdout: stdout.text,
            stderr: stderr.text)
    }

    /// Runs a command to completion; if it does not finish within `timeout` it is stopped and
    /// this throws.
    static func run(
        _ arguments: [String], in directory: String, executable: String = hearthExecutablePath(),
        environment: [String: String] = [:], timeout: Duration = .seconds(30)
    ) async throws -> Outcome {
        let child = try ChildProcess(arguments, in: directory, executable: executable, environment: environment)
        guard await child.waitForExit(timeout: timeout) else {
            await child.stop(grace: .seconds(2))
            throw ChildProcessError(description: "`\(child.commandLine)` did not finish within \(timeout)\n\(await child.outcome())")
        }
        return await child.outcome()
    }

    /// Complete lines written to stdout so far (a line still being written is left out).
    var stdoutLines: [String] {
        let text = stdout.text
        guard let lastNewline = text.lastIndex(of: "\n") else { return [] }
        return text[..<lastNewline].split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
    }
}

/// Where a started `hearth` listens, from its first two stdout lines.
struct Listener {
    let host: String
    let port: Int
    let url: String
    let certificatePath: String
    let intakeLine: String
    let certificateLine: String
}

extension ChildProcess {
    /// Waits for the `intake: https://HOST:PORT` and `certificate: PATH` lines; throws (with the
    /// child's output) if it exits first or `timeout` passes.
    func waitForListener(timeout: Duration = .seconds(30)) async throws -> Listener {
        let deadline = ContinuousClock.now + timeout
        while true {
            let lines = stdoutLines
            if let intake = lines.first(where: { $0.hasPrefix("intake: ") }),
                let certificate = lines.first(where: { $0.hasPrefix("certificate: ") })
            {
                let url = String(intake.dropFirst("intake: ".count))
                guard url.hasPrefix("https://"), let colon = url.lastIndex(of: ":"), let port = Int(url[url.index(after: colon)...]) else {
                    throw ChildProcessError(description: "unexpected intake line: \(intake)")
                }
                let host = String(url[url.index(url.startIndex, offsetBy: "https://".count)..<colon])
                return Listener(
                    host: host, port: port, url: url, certificatePath: String(certificate.dropFirst("certificate: ".count)),
                    intakeLine: intake, certificateLine: certificate)
            }
            if !isRunning {
                throw ChildProcessError(description: "`\(commandLine)` exited before listening\n\(await outcome())")
            }
            if ContinuousClock.now >= deadline {
                throw ChildProcessError(
                    description: "`\(commandLine)` printed no intake line within \(timeout)\nstdout: \(stdout.text)\nstderr: \(stderr.text)")
            }
            await pause(.milliseconds(20))
        }
    }
}

/// Runs `body` with a started `hearth` child; the child is always stopped afterwards (SIGTERM,
/// then SIGKILL), whether `body` succeeds or throws.
func withHearth<T>(
    _ arguments: [String], in directory: String, environment: [String: String] = [:],
    _ body: (ChildProcess, Listener) async throws -> T
) async throws -> T {
    let child = try ChildProcess(arguments, in: directory, environment: environment)
    do {
        let listener = try await child.waitForListener()
        let result = try await body(child, listener)
        await child.stop()
        return result
    } catch {
        await child.stop()
        throw error
    }
}

/// Runs `body` with a verifying HTTPS client for `listener`, shutting it down afterwards.
func withClient<T>(_ listener: Listener, _ body: (TestHTTPSClient) async throws -> T) async throws -> T {
    let client = try TestHTTPSClient(baseURL: listener.url, certificatePath: listener.certificatePath)
    do {
        let result = try await body(client)
        await client.shutdown()
        return result
    } catch {
        await client.shutdown()
        throw error
    }
}

/// Calls `body` with a NULL-terminated array of C strings, valid only during the call.
private func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) } + [nil]
    defer { for pointer in pointers { free(pointer) } }
    return body(pointers)
}

/// `path` with symbolic links and `.`/`..` resolved.
func realPath(_ path: String) -> String {
    guard let resolved = realpath(path, nil) else { return path }
    defer { free(resolved) }
    return String(cString: resolved)
}

/// The permission bits of a file.
func mode(_ path: String) -> mode_t? {
    var st = stat()
    guard lstat(path, &st) == 0 else { return nil }
    return st.st_mode & 0o7777
}

/// Creates a fresh key set with `hearth keys init --dir <work>/<name>` and returns its path.
func makeKeySet(in work: TemporaryDirectory, name: String = "keys") async throws -> String {
    let dir = work.file(name)
    let outcome = try await ChildProcess.run(["keys", "init", "--dir", dir], in: work.path)
    guard outcome.succeeded else {
        throw ChildProcessError(description: "hearth keys init failed: \(outcome)")
    }
    return dir
}
