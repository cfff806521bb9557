import Crypto
import FluxAPI
import FluxIdentity
import Foundation
import Logging
import Synchronization
import X509

/// Renews the agent's certificate over its session (issue 12). At two thirds of the
/// certificate's validity, counted from issuance (the five minutes of clock skew it is valid
/// before do not count), the agent makes a new key, sends `renew` with a CSR, and stores the
/// `renewed` certificate after checking it against the CA it already trusts. The running
/// session and its work are not touched; the next connection uses the new certificate.
final class CertificateRenewer: Sendable {
    let files: AgentEnrollment.Files
    let tenant: String
    let node: String
    let logger: Logger
    /// The key of the request in flight and when it was sent; a request unanswered for
    /// `retryAfter` is sent again with a new key.
    private let pending = Mutex<(key: P256.Signing.PrivateKey, sentAt: ContinuousClock.Instant)?>(nil)
    /// The stored certificate's renewal time, read from disk once and again after a renewal
    /// stored a new certificate (the agent checks every second).
    private let due = Mutex<Date??>(nil)
    static let retryAfter: Duration = .seconds(30)

    init(files: AgentEnrollment.Files, tenant: String, node: String, logger: Logger) {
        self.files = files
        self.tenant = tenant
        self.node = node
        self.logger = logger
    }

    /// When the stored certificate should be renewed, or nil if it cannot be read.
    func renewalDue() -> Date? {
        if let known = due.withLock({ $0 }) { return known }
        let read = readRenewalDue()
        due.withLock { $0 = .some(read) }
        return read
    }

    private func readRenewalDue() -> Date? {
        guard let pem = try? String(contentsOf: files.certificate, encoding: .utf8),
              let certificate = try? Certificate(pemEncoded: pem)
        else { return nil }
        let issued = certificate.notValidBefore + ClusterCA.clockSkewAllowance
        return issued + certificate.notValidAfter.timeIntervalSince(issued) * 2 / 3
    }

    /// The `renew` frame to send now: the certificate is due and no request is in flight.
    func requestIfDue(now: Date) -> AgentMessage? {
        guard let due = renewalDue(), now >= due else { return nil }
        return pending.withLock { pending -> AgentMessage? in
            if let sent = pending?.sentAt, ContinuousClock.now - sent < Self.retryAfter { return nil }
            let key = P256.Signing.PrivateKey()
            guard let csr = try? Enrollment.signingRequest(key: key, tenant: tenant, node: node) else { return nil }
            pending = (key, ContinuousClock.now)
            return .renew(.init(csr: csr))
        }
    }

    /// Stores the renewed certificate if it is for the key in flight, from the CA already
    /// trusted, and names this node; anything else is logged and dropped.
    func completed(_ issued: EnrollmentIssued) {
        guard let key = pending.withLock({ $0?.key }) else {
            logger.warning("renewed certificate without a request in flight; ignored")
            return
        }
        do {
            let trusted = try Certificate(pemEncoded: try String(contentsOf: files.ca, encoding: .utf8))
            _ = try Enrollment.verify(
                certificatePEM: issued.certificate, caCertificatePEM: issued.caCertificate, caHash: ClusterCA.pin(of: trusted),
                key: key, tenant: tenant, node: node, now: Date())
            try AgentEnrollment.store(key: key, issued: issued, in: files)
            pending.withLock { $0 = nil }
            due.withLock { $0 = nil }
            logger.notice("certificate renewed", metadata: [
                "serial": "\(issued.serial)", "validUntil": "\(Date(timeIntervalSince1970: TimeInterval(issued.notAfterMs) / 1_000))",
            ])
        } catch {
            logger.error("renewed certificate refused", metadata: ["error": "\(error)"])
        }
    }
}
