import ArgumentParser

/// `--process NAME=PID` (repeatable): other processes a benchmark reports CPU and RSS for, by
/// name (shared by `bench load` and `bench handshakes`).
struct ProcessArguments: ParsableArguments {
    @Option(name: .customLong("process"), help: "NAME=PID of a process to report CPU and RSS for (repeatable).")
    var processes: [String] = []

    func validate() throws {
        for process in processes where process.split(separator: "=").count != 2 || Int32(process.split(separator: "=")[1]) == nil {
            throw ValidationError("--process must be NAME=PID, got \(process)")
        }
    }

    /// The processes by name (valid after `validate`).
    var byName: [String: Int32] {
        Dictionary(processes.compactMap { entry in
            let parts = entry.split(separator: "=")
            return parts.count == 2 ? Int32(parts[1]).map { (String(parts[0]), $0) } : nil
        }, uniquingKeysWith: { _, last in last })
    }
}
