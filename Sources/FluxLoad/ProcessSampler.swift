import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// CPU time and memory of a process from `/proc` (Linux), sampled at the start and the end of a
/// run, so each process's share of the machine is reported next to the throughput it produced.
struct ProcessSample: Sendable {
    /// User + system CPU seconds since the process started.
    var cpuSeconds: Double
    /// Resident set now, and its peak (VmHWM), in MiB.
    var rssMiB: Double
    var peakRSSMiB: Double

    static func read(pid: Int32) -> ProcessSample? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
              let close = stat.lastIndex(of: ")")
        else { return nil }
        // Fields after "(comm)": state is field 3; utime and stime are fields 14 and 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 13, let user = Double(fields[11]), let system = Double(fields[12]) else { return nil }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        func kib(_ key: String) -> Double {
            let line = status.split(separator: "\n").first { $0.hasPrefix(key + ":") } ?? ""
            return Double(line.split(separator: " ").dropFirst().first.map(String.init) ?? "") ?? 0
        }
        return ProcessSample(cpuSeconds: (user + system) / ticks, rssMiB: kib("VmRSS") / 1_024, peakRSSMiB: kib("VmHWM") / 1_024)
    }
}

extension ProcessFigures {
    /// Each named process's CPU over `seconds` (from two samples) and its memory at the end.
    static func over(
        _ pids: [String: Int32], before: [String: ProcessSample], after: [String: ProcessSample], seconds: Double
    ) -> [ProcessFigures] {
        pids.keys.sorted().compactMap { name in
            guard let start = before[name], let finish = after[name], let pid = pids[name] else { return nil }
            return ProcessFigures(
                name: name, pid: pid, cpuPercent: (finish.cpuSeconds - start.cpuSeconds) / seconds * 100,
                rssMiB: finish.rssMiB, peakRSSMiB: finish.peakRSSMiB)
        }
    }
}

/// One process's figures over a run.
public struct ProcessFigures: Codable, Sendable {
    public var name: String
    public var pid: Int32
    /// Average CPU over the run, in percent of one core.
    public var cpuPercent: Double
    public var rssMiB: Double
    public var peakRSSMiB: Double
}
