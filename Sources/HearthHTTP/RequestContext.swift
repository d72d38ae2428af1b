public import Hummingbird
public import NIOCore

/// The request context of both Hearth listeners.
///
/// It keeps the connecting address in memory only, for the failure rate limiter; it is never
/// logged or stored.
public struct HearthRequestContext: RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The peer address (memory only; never logged, never stored).
    public let peerAddress: SocketAddress?

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
        peerAddress = source.channel.remoteAddress
    }

    /// Hearth reads bodies itself (strictly, with its own size limit).
    public var maxUploadSize: Int { 64 * 1024 }
}
