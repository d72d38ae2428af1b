import HearthCore
import Logging
import ServiceLifecycle

/// Every minute: withdraws expired consents (so a wrap never outlives its consent for long), then
/// crypto-shreds records with no live consent for the retention period.
struct ExpirySweeper: Service {
    let retention: RetentionService
    let logger: Logger

    func run() async throws {
        await repeatUntilShutdown(every: .seconds(60), logger: logger, failure: "expiry and retention sweep failed") {
            _ = try await retention.sweepExpiredConsents()
            _ = try await retention.applyRetention()
        }
    }
}

/// Every minute: publishes each month that has closed and is not published yet (SECURITY.md §13).
/// It reads the audit trail only when a month is missing, so on most rounds it is one small read.
struct TransparencyPublisher: Service {
    let transparency: TransparencyService
    let logger: Logger

    func run() async throws {
        await repeatUntilShutdown(every: .seconds(60), logger: logger, failure: "publishing transparency figures failed") {
            let months = try await transparency.publishClosedMonths()
            if !months.isEmpty { logger.info("transparency figures published", metadata: ["month.count": "\(months.count)"]) }
        }
    }
}

/// Signs a checkpoint of the audit chain every 100 entries (checked every 10 seconds) and at shutdown.
struct AuditCheckpointer: Service {
    let casework: CaseworkService
    let logger: Logger
    static let everyEntries: Int64 = 100

    func run() async throws {
        await repeatUntilShutdown(every: .seconds(10), logger: logger, failure: "audit checkpoint failed") {
            try await casework.checkpointAudit(minimumNewEntries: Self.everyEntries)
        }
        do {
            try await casework.checkpointAudit(minimumNewEntries: 1)
        } catch {
            logger.error("audit checkpoint at shutdown failed", metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
        }
    }
}

/// Runs `body` now and then every `interval` until graceful shutdown; a failure is logged by its
/// type only (never its message, which could quote data) and the loop goes on.
func repeatUntilShutdown(
    every interval: Duration, logger: Logger, failure: Logger.Message, _ body: @escaping @Sendable () async throws -> Void
) async {
    // Graceful shutdown cancels this loop, which is its normal end: a CancellationError thrown
    // from here would make the ServiceGroup cancel the listener and exit with status 1.
    await cancelWhenGracefulShutdown {
        while !Task.isCancelled {
            do {
                try await body()
            } catch is CancellationError {
                return
            } catch {
                logger.error(failure, metadata: ["error.type": "\(String(reflecting: type(of: error)))"])
            }
            try? await Task.sleep(for: interval)
        }
    }
}
