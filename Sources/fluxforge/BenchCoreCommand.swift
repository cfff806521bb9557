import ArgumentParser

struct BenchCoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "core", abstract: "Placeholder (issue 3).")
    func run() async throws { throw ValidationError("not built yet") }
}
