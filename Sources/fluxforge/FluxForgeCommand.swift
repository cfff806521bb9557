import ArgumentParser

/// The one FluxForge binary. Every process of the cluster is a subcommand of it, so a node needs
/// exactly one artifact and every role is built from the same commit.

struct FluxForgeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fluxforge",
        abstract: "FluxForge: an admission-controlled control plane for fleets of edge agents.",
        subcommands: [
            LoginCommand.self, TasksCommand.self, NodesCommand.self, DesiredCommand.self, JoinTokensCommand.self, CertificatesCommand.self,
            TenantsCommand.self, ClusterAdminCommand.self,
            ShardCommand.self, RouterCommand.self, AgentCommand.self, EnrollCommand.self, CtlCommand.self, CACommand.self, SimulateCommand.self,
            BenchCommand.self,
        ]
    )
}

/// Benchmarks print figures; they are never tests. Build them with `-c release`.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure throughput and latency of one part of FluxForge (build with -c release).",
        subcommands: [BenchCoreCommand.self, BenchRedisCommand.self, BenchLoadCommand.self, BenchNoisyCommand.self, BenchHandoffCommand.self, BenchHandshakesCommand.self]
    )
}
