import ArgumentParser

struct BenchRedisCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "redis", abstract: "Placeholder (issue 2).")
    func run() async throws { throw ValidationError("not built yet") }
}
