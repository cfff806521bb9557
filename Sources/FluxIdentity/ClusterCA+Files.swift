public import Foundation

extension ClusterCA {
    /// Loads `DIR/ca.key` and `DIR/ca.crt` as `fluxforge ca init` wrote them; the error names the
    /// file and what is wrong, because it is read once at a process's start and stops it.
    public init(directory: String) throws(IdentityError) {
        let base = URL(fileURLWithPath: directory)
        func read(_ name: String) throws(IdentityError) -> String {
            let file = base.appendingPathComponent(name).path
            do { return try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw IdentityError("cannot read \(file): \(error.localizedDescription) (make one with `fluxforge ca init --out \(directory)`)")
            }
        }
        let keyPEM = try read("ca.key"), certificatePEM = try read("ca.crt")
        do { try self.init(keyPEM: keyPEM, certificatePEM: certificatePEM) } catch let error as IdentityError { throw error } catch {
            throw IdentityError("\(directory): ca.key or ca.crt is not a PEM ECDSA P-256 key and certificate: \(error)")
        }
    }
}
