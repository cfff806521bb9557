import FluxRedis
import Foundation

/// Runs `redis-benchmark` (and `redis-cli`) from PATH against the configured server and parses
/// the requests/s it reports in `--csv` mode.
struct RedisBenchmarkRunner {
    let configuration: RedisConfiguration

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs redis-benchmark with `arguments` and returns the rps of the CSV row whose test name
    /// starts with `test`.
    func run(_ arguments: [String], test: String) throws -> Double {
        let output = try execute("redis-benchmark", connectionArguments(dbFlag: "--dbnum") + ["--csv"] + arguments)
        for line in output.split(separator: "\n") {
            let fields = line.split(separator: ",").map { $0.trimmingCharacters(in: CharacterSet(charactersIn: "\"")) }
            if fields.count >= 2, fields[0].hasPrefix(test), let rps = Double(fields[1]) { return rps }
        }
        throw Failure(description: "no '\(test)' row in redis-benchmark output:\n\(output)")
    }

    func cli(_ arguments: [String]) throws -> String {
        try execute("redis-cli", connectionArguments(dbFlag: "-n") + arguments)
    }

    private func connectionArguments(dbFlag: String) -> [String] {
        var arguments = ["-h", configuration.host, "-p", String(configuration.port), dbFlag, String(configuration.database)]
        if let username = configuration.username { arguments += ["--user", username] }
        if let password = configuration.password { arguments += ["-a", password] }
        return arguments
    }

    private func execute(_ tool: String, _ arguments: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(tool) exited with status \(process.terminationStatus)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Resident set size of this process, from /proc (Linux).
enum ProcessMemory {
    static var residentMebibytes: Double? {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return nil }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            let kibibytes = line.split(separator: " ").compactMap { Double($0) }.first
            return kibibytes.map { $0 / 1024 }
        }
        return nil
    }
}
