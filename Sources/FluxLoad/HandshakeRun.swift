import AsyncHTTPClient
import Foundation
import Histogram
import NIOCore
import NIOPosix
public import NIOSSL
import Synchronization

/// Full TLS handshakes per second at an agent listener (`fluxforge bench handshakes`): clients
/// in parallel each open a connection, complete a mutual TLS handshake with an agent certificate,
/// send one small request and close, again and again. The request is there so that a handshake
/// counts only once the server has checked the client's certificate and answered (in TLS 1.3 the
/// client's side of the handshake ends before the server has read its certificate).
public struct HandshakeRun: Sendable {
    public struct Configuration: Sendable {
        /// `https://host:port` of the agent listener (a router's or a shard's).
        public var url: String
        /// An agent's client configuration (`AgentCertificates.clientConfiguration`).
        public var tls: TLSConfiguration
        public var concurrency = 32
        public var duration: Duration = .seconds(10)
        /// Processes to report CPU and RSS for, by name.
        public var processes: [String: Int32] = [:]

        public init(url: String, tls: TLSConfiguration) {
            self.url = url
            self.tls = tls
        }
    }

    public struct Report: Codable, Sendable {
        public var concurrency: Int
        public var seconds: Double
        public var handshakes: Int
        public var handshakesPerSecond: Double
        /// Connect + handshake + one request, per connection, in milliseconds.
        public var p50Ms: Double
        public var p99Ms: Double
        public var failures: Int
        public var processes: [ProcessFigures]

        public func table() -> String {
            var lines = [
                "handshakes   \(handshakes) in \(String(format: "%.1f", seconds)) s with \(concurrency) clients: \(String(format: "%.0f", handshakesPerSecond))/s, failures \(failures)",
                "per connection (connect, mutual TLS 1.3, one request)  p50 \(String(format: "%.2f", p50Ms)) ms  p99 \(String(format: "%.2f", p99Ms)) ms",
            ]
            for process in processes {
                lines.append("\(process.name.padding(toLength: 12, withPad: " ", startingAt: 0)) CPU \(String(format: "%.0f", process.cpuPercent))% of a core, RSS \(String(format: "%.0f", process.rssMiB)) MiB")
            }
            return lines.joined(separator: "\n")
        }
    }

    public let configuration: Configuration

    public init(configuration: Configuration) { self.configuration = configuration }

    public func run() async throws -> Report {
        var clientConfiguration = HTTPClient.Configuration(
            tlsConfiguration: configuration.tls, redirectConfiguration: .disallow, timeout: .init(connect: .seconds(5), read: .seconds(5)))
        // One request per connection: every request is a new TCP connection and a full handshake
        // (NIOSSL keeps no client session cache, so nothing is resumed).
        clientConfiguration.maximumUsesPerConnection = 1
        clientConfiguration.connectionPool = .init(idleTimeout: .seconds(1), concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.concurrency)
        let client = HTTPClient(eventLoopGroup: MultiThreadedEventLoopGroup.singleton, configuration: clientConfiguration)
        let recorder = Recorder()
        let before = configuration.processes.compactMapValues { ProcessSample.read(pid: $0) }
        let clock = ContinuousClock()
        let started = clock.now
        let end = started + configuration.duration
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<configuration.concurrency {
                group.addTask {
                    while clock.now < end {
                        let sent = clock.now
                        var request = HTTPClientRequest(url: configuration.url + "/")
                        request.headers.add(name: "Connection", value: "close")
                        do {
                            let response = try await client.execute(request, timeout: .seconds(5))
                            _ = try await response.body.collect(upTo: 1 << 16)
                            let micros = UInt64(max(0, (clock.now - sent) / .microseconds(1)))
                            recorder.latencies.withLock { _ = $0.record(micros) }
                        } catch {
                            recorder.failures.add(1, ordering: .relaxed)
                            try? await Task.sleep(for: .milliseconds(10))
                        }
                    }
                }
            }
        }
        let elapsed = clock.now - started
        let after = configuration.processes.compactMapValues { ProcessSample.read(pid: $0) }
        try? await client.shutdown()
        let seconds = LoadRun.seconds(elapsed)
        let histogram = recorder.latencies.withLock { $0 }
        return Report(
            concurrency: configuration.concurrency, seconds: seconds, handshakes: Int(histogram.totalCount),
            handshakesPerSecond: Double(histogram.totalCount) / seconds,
            p50Ms: Double(histogram.valueAtPercentile(50)) / 1_000, p99Ms: Double(histogram.valueAtPercentile(99)) / 1_000,
            failures: recorder.failures.load(ordering: .relaxed),
            processes: ProcessFigures.over(configuration.processes, before: before, after: after, seconds: seconds))
    }
}

/// What the parallel clients of a `HandshakeRun` record.
private final class Recorder: Sendable {
    let latencies = Mutex(Histogram<UInt64>(highestTrackableValue: 60_000_000, numberOfSignificantValueDigits: .three))
    let failures = Atomic<Int>(0)
}
