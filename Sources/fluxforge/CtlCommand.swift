import ArgumentParser
import FluxCore
import FluxRedis
import FluxRuntime
import Foundation
import Logging

/// `fluxforge ctl`: operator tools that read the cluster's state.
struct CtlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "ctl", abstract: "Operator tools over Redis and the API.", subcommands: [ClusterCommand.self, InspectCommand.self])
}

/// `fluxforge ctl inspect`: per slot, owner and epoch, ingest length and pending, queue sizes and
/// the age of the oldest ready task — what to look at first when work is not moving.
struct InspectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect", abstract: "Summarize the slots in Redis: leases, ingest, ready/delayed/inflight, oldest task.")

    @OptionGroup var target: RedisTarget

    @Flag(help: "List every slot, not only those with work or without an owner.")
    var all = false

    func run() async throws {
        let client = try RedisBackends.make(url: target.redis, logger: Logger(label: "fluxforge.ctl"))
        defer { Task { await client.close() } }
        let inspected = try await SlotInspector(redis: client, slotCount: target.slots).inspect()
        print(Self.render(inspected, all: all, nowMs: Int64(Date().timeIntervalSince1970 * 1_000)))
    }

    static func render(_ slots: [SlotInspector.Slot], all: Bool, nowMs: Int64) -> String {
        var lines = ["slot  lease                      ingest  pending    ready  delayed inflight  oldest-ready"]
        // By default: slots with work, and used slots nobody holds (orphaned until a lease).
        for slot in slots where all || slot.hasWork || (slot.lease == nil && !slot.isEmpty) {
            let lease = slot.lease ?? "(none; epoch \(slot.epoch))"
            let age = slot.oldestReadyMs.map { String(format: "%.1fs", Double(nowMs - $0) / 1_000) } ?? "-"
            lines.append(
                "\(pad(slot.slot, 4))  \(lease.padding(toLength: 25, withPad: " ", startingAt: 0))  \(pad(slot.ingestLength, 6))  "
                    + "\(pad(slot.ingestPending, 7))  \(pad(slot.ready, 7))  \(pad(slot.delayed, 7))  \(pad(slot.inflight, 7))  \(age)")
        }
        let used = slots.filter { !$0.isEmpty }
        let owned = slots.filter { $0.lease != nil }.count
        lines.append("\(used.count) of \(slots.count) slots used, \(owned) leased; ready \(used.reduce(0) { $0 + $1.ready }), "
            + "delayed \(used.reduce(0) { $0 + $1.delayed }), inflight \(used.reduce(0) { $0 + $1.inflight }), "
            + "ingest pending \(used.reduce(0) { $0 + $1.ingestPending })")
        return lines.joined(separator: "\n")
    }

    private static func pad(_ value: some BinaryInteger, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }
}

/// `fluxforge ctl cluster`: members with heartbeat age, slots held and lease time left.
struct ClusterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cluster", abstract: "Members, slots held per member, lease time left, unowned slots.")

    @OptionGroup var target: RedisTarget

    @Option(help: "Member TTL in milliseconds (a member silent longer is dead).")
    var memberTTLMs: Int = 5_000

    func run() async throws {
        let client = try RedisBackends.make(url: target.redis, logger: Logger(label: "fluxforge.ctl"))
        defer { Task { await client.close() } }
        let nowMs = Int64(Date().timeIntervalSince1970 * 1_000)
        let view = try await ClusterReport.build(
            redis: client, membership: Membership(redis: client, memberTTLMs: Int64(memberTTLMs)), slotCount: target.slots, nowMs: nowMs)
        print("member               " + "api".padding(toLength: 29, withPad: " ", startingAt: 0) + "heartbeat    state slots lease ttl (min…max)")
        for member in view.members {
            let ttls = view.leases.filter { $0.holder == member.id }.map(\.ttlMs)
            let ttl = ttls.isEmpty ? "-" : "\(ttls.min() ?? 0)…\(ttls.max() ?? 0) ms"
            let columns = [
                member.id.padding(toLength: 20, withPad: " ", startingAt: 0), member.api.padding(toLength: 28, withPad: " ", startingAt: 0),
                "\(member.heartbeatAgeMs) ms ago".padding(toLength: 12, withPad: " ", startingAt: 0),
                (member.live ? "live" : "dead").padding(toLength: 5, withPad: " ", startingAt: 0),
                String(member.slotsHeld).padding(toLength: 5, withPad: " ", startingAt: 0), ttl,
            ]
            print(columns.joined(separator: " "))
        }
        let strangers = Set(view.leases.map(\.holder)).subtracting(view.members.map(\.id))
        for holder in strangers.sorted() {
            print("\(holder): holds \(view.leases.filter { $0.holder == holder }.count) leases but is not a member")
        }
        print("\(view.slotCount) slots: \(view.leases.count) leased, \(view.unownedSlots.count) unowned, \(view.movingSlots.count) moving")
    }
}

/// The Redis and slot count every `ctl` command reads.
struct RedisTarget: ParsableArguments {
    @Option(help: "Redis URL: redis://[user:password@]host:port/db or redis-sentinel://sentinel:port[,…]/<master-name>[/db]")
    var redis: String = ProcessInfo.processInfo.environment["FLUXFORGE_REDIS_URL"] ?? "redis://127.0.0.1:6379/0"

    @Option(help: "Slots in the cluster.")
    var slots: Int = 256

    func validate() throws {
        guard (1...16_384).contains(slots) else { throw ValidationError("--slots must be within 1…16384") }
    }
}
