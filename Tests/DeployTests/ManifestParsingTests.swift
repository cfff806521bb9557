import Testing

/// Every YAML file under deploy/ parses, document by document, into mappings.
@Suite("deploy/ YAML files")
struct ManifestParsingTests {
    @Test func everyYAMLFileParsesIntoMappings() throws {
        let files = try ManifestFile.all()
        // The files the other suites read: a deploy/ that is empty or was moved must fail here.
        let expected: Set = ["compose.yaml", "k8s/redis.yaml", "k8s/router.yaml", "k8s/shard.yaml", "k8s/secret.example.yaml"]
        #expect(Set(files.map(\.path)).isSuperset(of: expected), "found \(files.map(\.path))")
        for file in files {
            #expect(!file.documents.isEmpty, "\(file.path) has no document")
            for (index, document) in file.documents.enumerated() {
                #expect(!document.map.isEmpty, "\(file.path) document \(index + 1) is not a mapping")
            }
        }
    }
}
