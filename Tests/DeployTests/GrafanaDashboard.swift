import Foundation

/// deploy/grafana/fluxforge.json, read as far as the tests look: panels (rows with their nested
/// panels), their grid positions, data sources and targets, and the template variables.
struct GrafanaDashboard: Decodable {
    var title: String
    var uid: String
    var schemaVersion: Int
    var panels: [Panel]
    var templating: Templating

    struct Panel: Decodable {
        var id: Int?
        var type: String
        var title: String?
        var gridPos: GridPosition?
        var datasource: DataSource?
        var targets: [Target]?
        /// A collapsed row keeps its panels here.
        var panels: [Panel]?

        var isRow: Bool { type == "row" }
    }

    struct GridPosition: Decodable {
        var h: Int
        var w: Int
        var x: Int
        var y: Int

        func overlaps(_ other: GridPosition) -> Bool {
            x < other.x + other.w && other.x < x + w && y < other.y + other.h && other.y < y + h
        }
    }

    struct DataSource: Decodable {
        var type: String?
        var uid: String?
    }

    struct Target: Decodable {
        var refId: String?
        var expr: String?
        var datasource: DataSource?
    }

    struct Templating: Decodable {
        var list: [Variable]
    }

    struct Variable: Decodable {
        var name: String
        var type: String
        /// A string for a `datasource` variable (the plugin type); other kinds hold an object.
        var query: String?

        enum CodingKeys: String, CodingKey { case name, type, query }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: CodingKeys.self)
            name = try container.decode(String.self, forKey: .name)
            type = try container.decode(String.self, forKey: .type)
            query = try? container.decodeIfPresent(String.self, forKey: .query)
        }
    }

    static func load() throws -> GrafanaDashboard {
        let data = try Data(contentsOf: Repository.deploy.appendingPathComponent("grafana/fluxforge.json"))
        return try JSONDecoder().decode(GrafanaDashboard.self, from: data)
    }

    /// Every panel, rows and the panels of collapsed rows included, in file order.
    var allPanels: [Panel] { panels.flatMap { [$0] + ($0.panels ?? []) } }
}
