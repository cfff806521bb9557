import Foundation

/// Holds a task in RUNNING until the test says so, instead of a `sleep` that a loaded CI machine
/// can outlast: the task's command waits (bounded, 60 s) for a file the test creates with `open()`.
/// Agents in tests run on this machine, so the path is shared.
public struct ReleaseGate: Sendable {
    public let path: String

    public init() throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("flux-gate-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        path = directory.appendingPathComponent("open").path
    }

    /// A `sh -c` argv that waits for the gate (at most 60 s) and then runs `script`.
    public func command(then script: String) -> [String] {
        ["sh", "-c", "i=0; while [ ! -e '\(path)' ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i+1)); done; \(script)"]
    }

    public func open() {
        FileManager.default.createFile(atPath: path, contents: Data())
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: (path as NSString).deletingLastPathComponent)
    }
}
