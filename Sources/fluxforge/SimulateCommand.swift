import ArgumentParser

struct SimulateCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "simulate", abstract: "Placeholder (issue 3).")
    func run() async throws { throw ValidationError("not built yet") }
}
