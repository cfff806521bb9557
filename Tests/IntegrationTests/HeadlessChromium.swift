import FluxTesting
import Foundation
import Logging
import Synchronization
import WSClient
#if canImport(Glibc)
import Glibc
#endif

/// A real headless Chromium (Debian's `chromium`) for the dashboard test, driven over the
/// DevTools protocol on loopback: one WebSocket to the browser, one page per `newPage()`
/// (`Target.createTarget`, attached with `flatten`, so every command names its page's session).
///
/// Everything is bounded: the start waits at most `startTimeout` for `DevToolsActivePort`, a
/// DevTools session kills the browser when it outlives its limit (so a hung read ends), and
/// `stop()` ends the browser with SIGTERM, then SIGKILL.
final class HeadlessChromium: @unchecked Sendable {
    static let binary = "/usr/bin/chromium"
    /// The browser's profile, a fresh directory it also writes `DevToolsActivePort` into.
    let profile: URL
    let logFile: URL
    /// `ws://127.0.0.1:<port>/devtools/browser/<id>`.
    let endpoint: String
    private let process: Process

    private init(profile: URL, logFile: URL, endpoint: String, process: Process) {
        self.profile = profile
        self.logFile = logFile
        self.endpoint = endpoint
        self.process = process
    }

    /// Starts the browser with a fresh profile under `directory` and waits for its DevTools port.
    static func launch(in directory: URL, startTimeout: Duration = .seconds(30)) async throws -> HeadlessChromium {
        guard FileManager.default.isExecutableFile(atPath: binary) else {
            throw HarnessError("\(binary) is missing: install Debian's chromium (cluster/lib/common.sh lists it)")
        }
        let profile = directory.appendingPathComponent("chromium-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: profile, withIntermediateDirectories: true)
        let logFile = directory.appendingPathComponent("chromium.log")
        _ = FileManager.default.createFile(atPath: logFile.path, contents: nil)
        let log = try FileHandle(forWritingTo: logFile)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        // Port 0: the browser picks a free loopback port and writes it to DevToolsActivePort.
        // The WebSocket client sends `Origin: ws://127.0.0.1`, which DevTools must be told to accept.
        process.arguments = [
            "--headless", "--no-sandbox", "--disable-gpu", "--user-data-dir=\(profile.path)",
            "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0", "--remote-allow-origins=ws://127.0.0.1",
            "--no-first-run", "--no-default-browser-check", "--disable-extensions", "--window-size=1400,1000", "about:blank",
        ]
        process.standardOutput = log
        process.standardError = log
        try process.run()
        let portFile = profile.appendingPathComponent("DevToolsActivePort")
        let deadline = ContinuousClock.now + startTimeout
        while ContinuousClock.now < deadline {
            if let text = try? String(contentsOf: portFile, encoding: .utf8) {
                let lines = text.split(separator: "\n")
                if lines.count >= 2, let port = Int(lines[0]) {
                    return HeadlessChromium(profile: profile, logFile: logFile, endpoint: "ws://127.0.0.1:\(port)\(lines[1])", process: process)
                }
            }
            guard process.isRunning else { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
        let output = (try? String(contentsOf: logFile, encoding: .utf8)) ?? ""
        throw HarnessError("chromium did not open its DevTools port within \(startTimeout):\n\(output.suffix(2_000))")
    }

    /// SIGTERM, up to 5 s to exit (it takes its renderer and GPU processes with it), then SIGKILL;
    /// the profile is removed.
    func stop() {
        if process.isRunning {
            kill(process.processIdentifier, SIGTERM)
            let deadline = ContinuousClock.now + .seconds(5)
            while process.isRunning, ContinuousClock.now < deadline { usleep(20_000) }
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        try? FileManager.default.removeItem(at: profile)
    }

    var isRunning: Bool { process.isRunning }

    private func killAtOnce() {
        if process.isRunning { kill(process.processIdentifier, SIGKILL) }
    }

    /// Connects to the browser's DevTools endpoint and runs `body` over that one connection.
    /// Past `limit` the browser is killed, which closes the connection and ends any read.
    func withDevTools<T: Sendable>(limit: Duration, _ body: @escaping @Sendable (DevTools) async throws -> T) async throws -> T {
        let result = Mutex<Result<T, any Error>?>(nil)
        let watchdog = Task {
            try await Task.sleep(for: limit)
            self.killAtOnce()
        }
        defer { watchdog.cancel() }
        let configuration = WebSocketClientConfiguration(maxFrameSize: 1 << 26)
        try await WebSocketClient.connect(url: endpoint, configuration: configuration, logger: Logger(label: "devtools")) { inbound, outbound, _ in
            let devTools = DevTools(frames: inbound.messages(maxSize: 1 << 26).makeAsyncIterator(), outbound: outbound)
            do {
                let value = try await body(devTools)
                result.withLock { $0 = .success(value) }
            } catch {
                result.withLock { $0 = .failure(error) }
            }
            try? await outbound.close(.normalClosure, reason: nil)
        }
        guard let outcome = result.withLock({ $0 }) else {
            throw HarnessError("the DevTools connection closed before the test was done (limit \(limit)):\n\(logTail())")
        }
        return try outcome.get()
    }

    func logTail() -> String {
        String(((try? String(contentsOf: logFile, encoding: .utf8)) ?? "").suffix(2_000))
    }
}

/// One DevTools connection: commands are sent one at a time and each waits for its own reply
/// (events and other replies in between are skipped).
final class DevTools {
    private var frames: WebSocketInboundMessageStream.AsyncIterator
    private let outbound: WebSocketOutboundWriter
    private var lastID = 0

    init(frames: WebSocketInboundMessageStream.AsyncIterator, outbound: WebSocketOutboundWriter) {
        self.frames = frames
        self.outbound = outbound
    }

    @discardableResult
    func call(_ method: String, _ parameters: [String: Any] = [:], session: String? = nil) async throws -> [String: Any] {
        lastID += 1
        let id = lastID
        var message: [String: Any] = ["id": id, "method": method, "params": parameters]
        if let session { message["sessionId"] = session }
        let data = try JSONSerialization.data(withJSONObject: message)
        try await outbound.write(.text(String(decoding: data, as: UTF8.self)))
        while let frame = try await frames.next() {
            guard case .text(let text) = frame,
                  let reply = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
                  reply["id"] as? Int == id
            else { continue }
            if let error = reply["error"] { throw HarnessError("DevTools \(method) failed: \(error)") }
            return reply["result"] as? [String: Any] ?? [:]
        }
        throw HarnessError("DevTools closed the connection while waiting for \(method)")
    }

    /// A new tab (its own sessionStorage) of `width`×`height` CSS pixels.
    func newPage(width: Int = 1400, height: Int = 1000) async throws -> BrowserPage {
        let target = try await call("Target.createTarget", ["url": "about:blank"])
        guard let targetID = target["targetId"] as? String else { throw HarnessError("no targetId in \(target)") }
        let attached = try await call("Target.attachToTarget", ["targetId": targetID, "flatten": true])
        guard let session = attached["sessionId"] as? String else { throw HarnessError("no sessionId in \(attached)") }
        let page = BrowserPage(devTools: self, session: session)
        try await call("Page.enable", session: session)
        try await call("Emulation.setDeviceMetricsOverride", [
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false,
        ], session: session)
        return page
    }
}

/// One tab of the browser.
struct BrowserPage {
    let devTools: DevTools
    let session: String

    func navigate(_ url: String) async throws {
        let answer = try await devTools.call("Page.navigate", ["url": url], session: session)
        if let error = answer["errorText"] as? String { throw HarnessError("navigating to \(url): \(error)") }
    }

    /// The value of a JavaScript expression evaluated in the page (JSON-serialisable values only).
    func evaluate(_ expression: String) async throws -> Any? {
        let answer = try await devTools.call("Runtime.evaluate", ["expression": expression, "returnByValue": true], session: session)
        if let exception = answer["exceptionDetails"] { throw HarnessError("the page threw: \(exception)") }
        return (answer["result"] as? [String: Any])?["value"]
    }

    /// Evaluates `expression`, which must produce a JSON string, and decodes it.
    func read<T: Decodable>(_ type: T.Type, _ expression: String) async throws -> T {
        guard let text = try await evaluate(expression) as? String else { throw HarnessError("\(expression) gave no string") }
        return try JSONDecoder().decode(T.self, from: Data(text.utf8))
    }

    /// Reads `T` every 100 ms until `done` accepts it; throws with the last reading after `timeout`.
    func waitFor<T: Decodable>(
        _ what: String, timeout: Duration = .seconds(20), _ type: T.Type, _ expression: String, until done: (T) -> Bool
    ) async throws -> T {
        let deadline = ContinuousClock.now + timeout
        var last: T?
        while ContinuousClock.now < deadline {
            last = try await read(T.self, expression)
            if let last, done(last) { return last }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw HarnessError("the page did not show \(what) within \(timeout); it showed: \(last.map { "\($0)" } ?? "nothing")")
    }

    /// A PNG of the whole page (up to 3000 px tall).
    func screenshot() async throws -> Data {
        let metrics = try await devTools.call("Page.getLayoutMetrics", session: session)
        let size = metrics["cssContentSize"] as? [String: Any]
        let width = (size?["width"] as? Double) ?? 1400
        let height = min((size?["height"] as? Double) ?? 1000, 3000)
        let shot = try await devTools.call("Page.captureScreenshot", [
            "format": "png", "captureBeyondViewport": true,
            "clip": ["x": 0, "y": 0, "width": width, "height": height, "scale": 1],
        ], session: session)
        guard let base64 = shot["data"] as? String, let png = Data(base64Encoded: base64) else { throw HarnessError("no screenshot data") }
        return png
    }
}
