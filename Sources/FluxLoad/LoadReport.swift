import Foundation

/// What one load run measured; printed as a table and written as JSON (bench/results/).
public struct LoadReport: Codable, Sendable {
    public struct Setup: Codable, Sendable {
        public var agents: Int
        public var tenants: Int
        public var agentCapacity: Int
        public var serviceTimeMs: Int
        public var pacing: String
        public var batchSize: Int
        public var durationSeconds: Double
    }

    public var startedAt: String
    public var setup: Setup
    /// Tasks answered 202 per second of submitting, and tasks finished (acked) per second from
    /// the first submission to the last finish.
    public var acceptedPerSecond: Double
    public var completedPerSecond: Double
    public var accepted: Int
    public var completed: Int
    /// Submission sent → dispatch received by a simulated agent.
    public var submitToDispatch: LatencySummary
    /// Submission sent → the shard's ack of the result (durable SUCCEEDED).
    public var submitToFinished: LatencySummary
    /// Failed requests by kind (`http_503`, `transport`, …) and tasks that never finished.
    public var errors: [String: Int]
    /// For a sample of at most 500 unfinished tasks: how many are in which `state reason`.
    public var unfinishedStatesSampled: [String: Int]?
    public var agentsConnected: Int
    /// What the shards say at the end (the router's aggregated snapshot): sessions they hold
    /// and nodes they quarantined — a fleet whose heartbeats were not kept shows up here.
    public var clusterAgentsConnected: Int?
    public var quarantinedNodes: Int?
    public var processes: [ProcessFigures]
    /// Commands Redis executed per completed task (INFO commandstats, scripts' inner calls included).
    public var redisCommandsPerTask: Double?
    /// Growth of Redis's `used_memory` over the run per completed task: what a finished task
    /// (its record, its timeline, index entries) keeps in Redis until its retention ends.
    public var redisBytesPerTask: Double?
    public var redisCommandsTop: [String: Int]?

    /// The human-readable form.
    public func table() -> String {
        func f(_ value: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", value) }
        func row(_ name: String, _ latency: LatencySummary) -> String {
            "  \(name.padding(toLength: 22, withPad: " ", startingAt: 0)) p50 \(f(latency.p50, 2)) ms  p90 \(f(latency.p90, 2))  p99 \(f(latency.p99, 2))  p99.9 \(f(latency.p999, 2))  max \(f(latency.max, 2))  (n=\(latency.count))"
        }
        var lines = [
            "load: \(setup.agents) agents (\(agentsConnected) connected) over \(setup.tenants) tenants, capacity \(setup.agentCapacity), service \(setup.serviceTimeMs) ms, \(setup.pacing), batch \(setup.batchSize), \(f(setup.durationSeconds)) s",
            "  accepted   \(accepted) tasks, \(f(acceptedPerSecond)) tasks/s",
            "  completed  \(completed) tasks, \(f(completedPerSecond)) tasks/s",
            row("submit → dispatch", submitToDispatch),
            row("submit → finished", submitToFinished),
        ]
        if !errors.isEmpty { lines.append("  errors     " + errors.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")) }
        if let unfinishedStatesSampled {
            lines.append("  unfinished (sample of \(unfinishedStatesSampled.values.reduce(0, +))): "
                + unfinishedStatesSampled.sorted { $0.value > $1.value }.map { "\($0.key)=\($0.value)" }.joined(separator: ", "))
        }
        if let clusterAgentsConnected, let quarantinedNodes {
            lines.append("  shards     \(clusterAgentsConnected) agent sessions held, \(quarantinedNodes) nodes quarantined at the end")
        }
        if let redisCommandsPerTask { lines.append("  redis      \(f(redisCommandsPerTask, 2)) commands per completed task") }
        if let redisBytesPerTask { lines.append("  redis      \(f(redisBytesPerTask, 0)) bytes of memory per completed task (records and timelines kept)") }
        for process in processes {
            lines.append("  \(process.name.padding(toLength: 10, withPad: " ", startingAt: 0)) cpu \(f(process.cpuPercent))%  rss \(f(process.rssMiB)) MiB (peak \(f(process.peakRSSMiB)))")
        }
        return lines.joined(separator: "\n")
    }
}
