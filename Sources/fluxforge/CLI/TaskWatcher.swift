import FluxAPI
import FluxClient
import Foundation

/// Follows one task's event stream (docs/api/events.md) until the task ends, printing each
/// change as it happens; reconnects after its last event id when the stream breaks (a router
/// restart says `closing`), a bounded number of times.
struct TaskWatcher {
    let session: CLISession
    /// Where the changes go: stdout for `tasks watch`, stderr for `submit --wait` (whose stdout
    /// is the task's output).
    var toStandardError = false
    static let maxReconnects = 10

    /// The task's terminal state (`EXPIRED` when its record is gone).
    func follow(_ id: String) async throws -> String {
        var lastEventID: String?
        var reconnects = 0
        while true {
            do {
                for try await event in try await session.api.events(try session.tenantPath("/tasks/\(id)/events"), lastEventID: lastEventID) {
                    lastEventID = event.lastEventID ?? lastEventID
                    switch event.event {
                    case "transition":
                        let entry = try JSONDecoder().decode(TimelineEntry.self, from: Data(event.data.utf8))
                        emit(session.output == .json && !toStandardError ? event.data : TaskTables.transition(entry, painter: painter))
                    case "end":
                        let end = try JSONDecoder().decode([String: String].self, from: Data(event.data.utf8))
                        return end["state"] ?? "UNKNOWN"
                    case "error":
                        throw APIError(status: 503, code: "stream_error", message: event.data)
                    default:
                        break
                    }
                }
            } catch let error as APIError where error.status < 500 {
                throw error
            } catch {
                if reconnects >= Self.maxReconnects { throw error }
            }
            reconnects += 1
            guard reconnects <= Self.maxReconnects else {
                throw APIError(status: 503, code: "stream_lost", message: "the event stream broke \(Self.maxReconnects) times; see `fluxforge tasks get \(id)`")
            }
            try await Task.sleep(for: .seconds(1))
        }
    }

    private var painter: Painter {
        toStandardError ? Painter.forTerminal(STDERR_FILENO) : session.painter
    }

    private func emit(_ line: String) {
        if toStandardError {
            FileHandle.standardError.write(Data((line + "\n").utf8))
        } else {
            print(line)
            fflush(nil)
        }
    }
}
