//! PEP 740 attestations: checks the provenance object an index serves for a distribution file
//! against Sigstore's public-good trust root, offline.
//!
//! Takes the provenance JSON (PEP 740's `{"version": 1, "attestation_bundles": [...]}`), the
//! file's name and its SHA-256, and gives the publishers whose identity the attestations prove
//! ([`Publisher`]), or an [`AttestationError`] saying which check failed.
//!
//! Every attestation in every bundle must pass all of these, following the Sigstore client
//! specification for a DSSE bundle with a Rekor v1 entry:
//! 1. the in-toto statement names exactly this file (name and SHA-256) with a publish or SLSA
//!    predicate;
//! 2. the DSSE signature over the statement verifies with the certificate's key;
//! 3. the certificate chains to a Fulcio CA of the trust root, for code signing, at the time
//!    the transparency log recorded the entry; its embedded SCT verifies with a CT log key;
//! 4. the transparency-log entry is the one for this envelope (payload hash, signature and
//!    certificate match), its signed entry timestamp verifies with the log's key, and its
//!    Merkle inclusion proof leads to the root of a checkpoint the log signed;
//! 5. the certificate's identity (OIDC issuer, source repository, workflow) is the bundle's
//!    publisher (GitHub, GitLab or Google).
//!
//! The trust root is the public-good instance's `trusted_root.json`, built into the binary; it
//! is not refreshed over TUF (the Sigstore TUF hosts are not reachable from where ferry is
//! tested), so a key rotated after it was recorded is unknown until it is updated.

use std::sync::OnceLock;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ring::signature::{self, UnparsedPublicKey};
use rustls_pki_types::{CertificateDer, UnixTime};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use x509_parser::prelude::{FromDer, GeneralName, X509Certificate};

/// Why a provenance object was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum AttestationError {
    #[error("the provenance for {file} is not a PEP 740 provenance object: {reason}")]
    Malformed { file: String, reason: String },
    #[error("the provenance for {file} does not verify: {reason}")]
    Invalid { file: String, reason: String },
}

/// Who published a file, as the provenance names it and the certificate proves it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Publisher {
    /// `GitHub`, `GitLab` or `Google`.
    pub kind: String,
    /// `owner/name` (GitHub), the project path (GitLab), or the account's e-mail (Google).
    pub repository: String,
    /// The workflow file (GitHub) or CI file path (GitLab) that published it. (The deployment
    /// environment a provenance may name is left out: no certificate field proves it.)
    #[serde(skip_serializing_if = "Option::is_none")]
    pub workflow: Option<String>,
    /// The certificate's subject: the workflow run's URI or the e-mail.
    pub identity: String,
    /// When the transparency log recorded the signature (Unix seconds).
    pub integrated_time: u64,
    /// The entry's index in the transparency log.
    pub log_index: u64,
}

impl Publisher {
    /// One line for people: `GitHub trailofbits/pypi-attestations (workflow release.yml)`.
    pub fn describe(&self) -> String {
        let mut out = format!("{} {}", self.kind, self.repository);
        if let Some(workflow) = &self.workflow {
            out.push_str(&format!(" (workflow {workflow})"));
        }
        out
    }
}

/// A provenance object larger than this is refused unread (real ones are about 10 KiB each).
const MAX_PROVENANCE_BYTES: usize = 1 << 20;
/// At most this many attestations are checked per file (each costs a few signature checks).
const MAX_ATTESTATIONS: usize = 32;

/// Verifies `provenance` (PEP 740 JSON) for the file `filename` whose SHA-256 is `sha256`
/// (hex), and gives one [`Publisher`] per attestation bundle.
pub fn verify_provenance(
    provenance: &[u8],
    filename: &str,
    sha256: &str,
) -> Result<Vec<Publisher>, AttestationError> {
    let malformed = |reason: String| AttestationError::Malformed {
        file: filename.to_string(),
        reason,
    };
    if provenance.len() > MAX_PROVENANCE_BYTES {
        return Err(malformed(format!(
            "it is {} bytes (at most {MAX_PROVENANCE_BYTES} are read)",
            provenance.len()
        )));
    }
    let parsed: Provenance =
        serde_json::from_slice(provenance).map_err(|e| malformed(e.to_string()))?;
    if parsed.version != 1 {
        return Err(malformed(format!(
            "version {} (only 1 is known)",
            parsed.version
        )));
    }
    if parsed.attestation_bundles.is_empty() {
        return Err(malformed("it holds no attestation bundles".into()));
    }
    let count: usize = parsed
        .attestation_bundles
        .iter()
        .map(|b| b.attestations.len())
        .sum();
    if count > MAX_ATTESTATIONS {
        return Err(malformed(format!(
            "it holds {count} attestations (at most {MAX_ATTESTATIONS} are checked)"
        )));
    }
    let mut publishers = Vec::new();
    for bundle in &parsed.attestation_bundles {
        if bundle.attestations.is_empty() {
            return Err(malformed("a bundle holds no attestations".into()));
        }
        for attestation in &bundle.attestations {
            let checked = verify_attestation(attestation, filename, sha256)?;
            publishers.push(
                match_publisher(&bundle.publisher, &checked).map_err(|reason| {
                    AttestationError::Invalid {
                        file: filename.to_string(),
                        reason,
                    }
                })?,
            );
        }
    }
    let mut unique: Vec<Publisher> = Vec::new();
    for p in publishers {
        if !unique.contains(&p) {
            unique.push(p);
        }
    }
    let publishers = unique;
    Ok(publishers)
}

/// What one verified attestation proves about its signer.
#[derive(Debug, Clone)]
pub struct CheckedIdentity {
    /// The certificate's subject alternative name (URI or e-mail).
    pub identity: String,
    /// The OIDC issuer (Fulcio extension 1.3.6.1.4.1.57264.1.8, or .1.1 in older certificates).
    pub issuer: String,
    /// Source repository URI (…57264.1.12), when the certificate carries it.
    pub source_repository: Option<String>,
    /// Build config URI (…57264.1.18): the workflow that was configured to publish.
    pub build_config: Option<String>,
    /// Source repository ref (…57264.1.14) and digest (…57264.1.13): what the workflow ran at.
    pub source_ref: Option<String>,
    pub source_digest: Option<String>,
    pub integrated_time: u64,
    pub log_index: u64,
}

/// Verifies one attestation (PEP 740's `Attestation` object) for `filename`/`sha256`: steps 1
/// to 4 of the module's list.
pub fn verify_attestation(
    attestation: &Attestation,
    filename: &str,
    sha256: &str,
) -> Result<CheckedIdentity, AttestationError> {
    let invalid = |reason: String| AttestationError::Invalid {
        file: filename.to_string(),
        reason,
    };
    let malformed = |reason: String| AttestationError::Malformed {
        file: filename.to_string(),
        reason,
    };
    if attestation.version != 1 {
        return Err(malformed(format!(
            "attestation version {} (only 1 is known)",
            attestation.version
        )));
    }
    let statement = B64
        .decode(&attestation.envelope.statement)
        .map_err(|e| malformed(format!("statement: {e}")))?;
    let signature = B64
        .decode(&attestation.envelope.signature)
        .map_err(|e| malformed(format!("signature: {e}")))?;
    let cert_der = B64
        .decode(&attestation.verification_material.certificate)
        .map_err(|e| malformed(format!("certificate: {e}")))?;

    // 1. The statement is about this file.
    check_statement(&statement, filename, sha256).map_err(invalid)?;

    // 2. The envelope's signature, with the certificate's key.
    let (_, cert) =
        X509Certificate::from_der(&cert_der).map_err(|e| malformed(format!("certificate: {e}")))?;
    let pae = dsse_pae("application/vnd.in-toto+json", &statement);
    verify_with_spki(cert.public_key().raw, &pae, &signature)
        .map_err(|e| invalid(format!("the envelope's signature does not verify ({e})")))?;

    // 4 (first, since its time is what the certificate is checked at). The log entry.
    let [entry] = attestation
        .verification_material
        .transparency_entries
        .as_slice()
    else {
        return Err(malformed(format!(
            "{} transparency log entries (exactly one is expected)",
            attestation.verification_material.transparency_entries.len()
        )));
    };
    let root = trust_root();
    let (integrated_time, log_index) =
        check_log_entry(entry, &statement, &signature, &cert_der, root).map_err(invalid)?;

    // 3. The certificate, at the time the log saw it.
    check_certificate(&cert_der, &cert, integrated_time, root).map_err(invalid)?;

    let identity = cert_identity(&cert).map_err(invalid)?;
    let issuer = fulcio_ext(&cert, FULCIO_ISSUER_V2)
        .or_else(|| fulcio_ext_raw(&cert, FULCIO_ISSUER_V1))
        .ok_or_else(|| invalid("the certificate names no OIDC issuer".into()))?;
    Ok(CheckedIdentity {
        identity,
        issuer,
        source_repository: fulcio_ext(&cert, FULCIO_SOURCE_REPOSITORY),
        build_config: fulcio_ext(&cert, FULCIO_BUILD_CONFIG),
        source_ref: fulcio_ext(&cert, FULCIO_SOURCE_REF),
        source_digest: fulcio_ext(&cert, FULCIO_SOURCE_DIGEST),
        integrated_time,
        log_index,
    })
}

// ---- the provenance format (PEP 740) ----

#[derive(Deserialize)]
struct Provenance {
    version: u32,
    attestation_bundles: Vec<AttestationBundle>,
}

#[derive(Deserialize)]
struct AttestationBundle {
    publisher: serde_json::Value,
    attestations: Vec<Attestation>,
}

/// PEP 740's `Attestation` object.
#[derive(Debug, Clone, Deserialize)]
pub struct Attestation {
    pub version: u32,
    verification_material: VerificationMaterial,
    envelope: Envelope,
}

#[derive(Debug, Clone, Deserialize)]
struct VerificationMaterial {
    certificate: String,
    transparency_entries: Vec<TlogEntry>,
}

#[derive(Debug, Clone, Deserialize)]
struct Envelope {
    statement: String,
    signature: String,
}

/// A Rekor entry as Sigstore bundles write it (protobuf JSON: 64-bit integers as strings).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct TlogEntry {
    log_index: IntString,
    log_id: LogId,
    kind_version: KindVersion,
    integrated_time: IntString,
    inclusion_promise: Option<InclusionPromise>,
    inclusion_proof: Option<InclusionProof>,
    canonicalized_body: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct LogId {
    key_id: String,
}

#[derive(Debug, Clone, Deserialize)]
struct KindVersion {
    kind: String,
    version: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionPromise {
    signed_entry_timestamp: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
struct InclusionProof {
    log_index: IntString,
    root_hash: String,
    tree_size: IntString,
    hashes: Vec<String>,
    checkpoint: Checkpoint,
}

#[derive(Debug, Clone, Deserialize)]
struct Checkpoint {
    envelope: String,
}

#[derive(Debug, Clone, Copy)]
struct IntString(u64);

impl<'de> Deserialize<'de> for IntString {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            N(u64),
            S(String),
        }
        match Either::deserialize(d)? {
            Either::N(n) => Ok(IntString(n)),
            Either::S(s) => s
                .parse()
                .map(IntString)
                .map_err(|_| serde::de::Error::custom(format!("{s:?} is not an integer"))),
        }
    }
}

// ---- 1. the statement ----

fn check_statement(statement: &[u8], filename: &str, sha256: &str) -> Result<(), String> {
    #[derive(Deserialize)]
    struct Statement {
        #[serde(rename = "_type")]
        kind: String,
        subject: Vec<Subject>,
        #[serde(rename = "predicateType")]
        predicate_type: String,
    }
    #[derive(Deserialize)]
    struct Subject {
        name: String,
        digest: std::collections::BTreeMap<String, String>,
    }
    let statement: Statement = serde_json::from_slice(statement)
        .map_err(|e| format!("its statement is not an in-toto statement ({e})"))?;
    if statement.kind != "https://in-toto.io/Statement/v1" {
        return Err(format!("its statement has type {:?}", statement.kind));
    }
    // PEP 740's publish predicate (`https://docs.<index>/attestations/publish/v1`) or SLSA
    // provenance; the index's host is not spelt out here, only the path it defines.
    let predicate_ok = statement.predicate_type == "https://slsa.dev/provenance/v1"
        || (statement.predicate_type.starts_with("https://docs.")
            && statement
                .predicate_type
                .ends_with("/attestations/publish/v1"));
    if !predicate_ok {
        return Err(format!(
            "its statement's predicate type {:?} is neither PEP 740's publish predicate nor SLSA provenance",
            statement.predicate_type
        ));
    }
    let [subject] = statement.subject.as_slice() else {
        return Err(format!(
            "its statement has {} subjects (exactly one is expected)",
            statement.subject.len()
        ));
    };
    if subject.name != filename && !subject.name.eq_ignore_ascii_case(filename) {
        return Err(format!("it attests {:?}, not {filename:?}", subject.name));
    }
    match subject.digest.get("sha256") {
        Some(d) if d.eq_ignore_ascii_case(sha256) => Ok(()),
        Some(d) => Err(format!(
            "it attests a file with sha256 {d}, and this file's sha256 is {sha256}"
        )),
        None => Err("its statement gives no sha256 for the file".into()),
    }
}

/// DSSE's pre-authentication encoding: what the envelope's signature signs.
fn dsse_pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "DSSEv1 {} {} {} ",
        payload_type.len(),
        payload_type,
        payload.len()
    )
    .into_bytes();
    out.extend_from_slice(payload);
    out
}

// ---- 3. the certificate ----

const CODE_SIGNING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x03];
const FULCIO_ISSUER_V1: &str = "1.3.6.1.4.1.57264.1.1";
const FULCIO_ISSUER_V2: &str = "1.3.6.1.4.1.57264.1.8";
const FULCIO_SOURCE_REPOSITORY: &str = "1.3.6.1.4.1.57264.1.12";
const FULCIO_SOURCE_DIGEST: &str = "1.3.6.1.4.1.57264.1.13";
const FULCIO_SOURCE_REF: &str = "1.3.6.1.4.1.57264.1.14";
const FULCIO_BUILD_CONFIG: &str = "1.3.6.1.4.1.57264.1.18";
const SCT_LIST: &str = "1.3.6.1.4.1.11129.2.4.2";

fn check_certificate(
    cert_der: &[u8],
    cert: &X509Certificate<'_>,
    at: u64,
    root: &TrustRoot,
) -> Result<(), String> {
    let ee_der = CertificateDer::from(cert_der);
    let ee = webpki::EndEntityCert::try_from(&ee_der)
        .map_err(|e| format!("its certificate cannot be read ({e})"))?;
    let algs = [
        webpki::ring::ECDSA_P256_SHA256,
        webpki::ring::ECDSA_P256_SHA384,
        webpki::ring::ECDSA_P384_SHA256,
        webpki::ring::ECDSA_P384_SHA384,
    ];
    let time = UnixTime::since_unix_epoch(Duration::from_secs(at));
    let mut last_error = String::from("the trust root has no certificate authority for that time");
    for ca in root.cas.iter().filter(|ca| ca.valid.contains(at)) {
        let Some((root_der, intermediates)) = ca.chain.split_last() else {
            continue;
        };
        let root_der = CertificateDer::from(root_der.as_slice());
        let Ok(anchor) = webpki::anchor_from_trusted_cert(&root_der) else {
            continue;
        };
        let intermediates: Vec<CertificateDer<'_>> = intermediates
            .iter()
            .map(|c| CertificateDer::from(c.as_slice()))
            .collect();
        match ee.verify_for_usage(
            &algs,
            &[anchor],
            &intermediates,
            time,
            webpki::KeyUsage::required(CODE_SIGNING),
            None,
            None,
        ) {
            Ok(_) => {
                // The issuer's key, for the SCT: the chain cert whose subject is the issuer.
                let issuer_spki = ca
                    .chain
                    .iter()
                    .filter_map(|der| X509Certificate::from_der(der).ok().map(|(_, c)| c))
                    .find(|c| c.subject().as_raw() == cert.issuer().as_raw())
                    .map(|c| c.public_key().raw.to_vec())
                    .ok_or("its certificate's issuer is not in the trust root's chain")?;
                return check_sct(cert, &issuer_spki, root);
            }
            Err(e) => last_error = format!("its certificate does not chain to Fulcio ({e:?})"),
        }
    }
    Err(last_error)
}

/// Checks the certificate's embedded signed certificate timestamp (RFC 6962 §3.2): a CT log
/// of the trust root saw the precertificate.
fn check_sct(
    cert: &X509Certificate<'_>,
    issuer_spki: &[u8],
    root: &TrustRoot,
) -> Result<(), String> {
    let ext = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == SCT_LIST)
        .ok_or("its certificate carries no signed certificate timestamp")?;
    let (tag, list, _) = der_tlv(ext.value).ok_or("its SCT list is not DER")?;
    if tag != 0x04 {
        return Err("its SCT list is not an OCTET STRING".into());
    }
    let precert_tbs = tbs_without_extension(cert.tbs_certificate.as_ref(), &oid_der(SCT_LIST))
        .ok_or("its certificate's TBS cannot be re-encoded")?;
    let mut r = Reader(list);
    let mut scts = Reader(r.take_u16_prefixed().ok_or("short SCT list")?);
    let mut failed = false;
    while !scts.0.is_empty() {
        let mut sct = Reader(scts.take_u16_prefixed().ok_or("short SCT")?);
        let version = sct.take(1).ok_or("short SCT")?[0];
        let log_id = sct.take(32).ok_or("short SCT")?;
        let timestamp = sct.take(8).ok_or("short SCT")?;
        let extensions = sct.take_u16_prefixed().ok_or("short SCT")?;
        let _hash_sig = sct.take(2).ok_or("short SCT")?;
        let sig = sct.take_u16_prefixed().ok_or("short SCT")?;
        if version != 0 {
            continue;
        }
        let millis = u64::from_be_bytes(timestamp.try_into().map_err(|_| "short SCT")?);
        let Some(log) = root
            .ctlogs
            .iter()
            .find(|l| l.key_id == log_id && l.valid.contains(millis / 1000))
        else {
            continue;
        };
        let mut signed = vec![0u8, 0u8];
        signed.extend_from_slice(timestamp);
        signed.extend_from_slice(&[0, 1]); // precert_entry
        signed.extend_from_slice(&Sha256::digest(issuer_spki));
        let len = precert_tbs.len();
        signed.extend_from_slice(&[(len >> 16) as u8, (len >> 8) as u8, len as u8]);
        signed.extend_from_slice(&precert_tbs);
        signed.extend_from_slice(&(extensions.len() as u16).to_be_bytes());
        signed.extend_from_slice(extensions);
        if verify_with_spki(&log.spki, &signed, sig).is_ok() {
            return Ok(());
        }
        failed = true;
    }
    if failed {
        return Err("its certificate's SCT does not verify with the CT log's key".into());
    }
    Err("its certificate's SCTs are from no CT log of the trust root".into())
}

fn cert_identity(cert: &X509Certificate<'_>) -> Result<String, String> {
    let san = cert
        .subject_alternative_name()
        .map_err(|e| format!("its certificate's SAN is unreadable ({e})"))?
        .ok_or("its certificate has no subject alternative name")?;
    san.value
        .general_names
        .iter()
        .find_map(|n| match n {
            GeneralName::URI(u) => Some(u.to_string()),
            GeneralName::RFC822Name(e) => Some(e.to_string()),
            _ => None,
        })
        .ok_or_else(|| "its certificate's SAN holds no URI or e-mail".into())
}

/// A Fulcio extension whose value is a DER UTF8String.
fn fulcio_ext(cert: &X509Certificate<'_>, oid: &str) -> Option<String> {
    let ext = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == oid)?;
    let (tag, value, _) = der_tlv(ext.value)?;
    (tag == 0x0c).then(|| String::from_utf8(value.to_vec()).ok())?
}

/// A Fulcio extension of the first generation, whose value is the raw string.
fn fulcio_ext_raw(cert: &X509Certificate<'_>, oid: &str) -> Option<String> {
    let ext = cert
        .extensions()
        .iter()
        .find(|e| e.oid.to_id_string() == oid)?;
    String::from_utf8(ext.value.to_vec()).ok()
}

// ---- 4. the transparency log ----

fn check_log_entry(
    entry: &TlogEntry,
    statement: &[u8],
    signature: &[u8],
    cert_der: &[u8],
    root: &TrustRoot,
) -> Result<(u64, u64), String> {
    if entry.kind_version.kind != "dsse" || entry.kind_version.version != "0.0.1" {
        return Err(format!(
            "its log entry is of kind {} {} (ferry reads Rekor v1 dsse 0.0.1 entries)",
            entry.kind_version.kind, entry.kind_version.version
        ));
    }
    let key_id = B64
        .decode(&entry.log_id.key_id)
        .map_err(|e| format!("its log id is not base64 ({e})"))?;
    let integrated_time = entry.integrated_time.0;
    // Rekor v1 logs sign with ECDSA; the Ed25519 keys are Rekor v2 logs, which sign no SETs.
    let log = root
        .tlogs
        .iter()
        .find(|l| l.key_id == key_id && l.key_details.starts_with("PKIX_ECDSA"))
        .ok_or("it was logged by a transparency log that is not in the trust root")?;
    if !log.valid.contains(integrated_time) {
        return Err("it was logged outside its transparency log key's validity".into());
    }
    let body = B64
        .decode(&entry.canonicalized_body)
        .map_err(|e| format!("its log entry body is not base64 ({e})"))?;

    // The entry is for this envelope.
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Body {
        api_version: String,
        kind: String,
        spec: Spec,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct Spec {
        payload_hash: HashValue,
        signatures: Vec<BodySignature>,
    }
    #[derive(Deserialize)]
    struct HashValue {
        algorithm: String,
        value: String,
    }
    #[derive(Deserialize)]
    struct BodySignature {
        signature: String,
        verifier: String,
    }
    let parsed: Body = serde_json::from_slice(&body)
        .map_err(|e| format!("its log entry body is unreadable ({e})"))?;
    if parsed.kind != "dsse" || parsed.api_version != "0.0.1" {
        return Err(format!(
            "its log entry body is of kind {} {}",
            parsed.kind, parsed.api_version
        ));
    }
    let payload_hash = hex(&Sha256::digest(statement));
    if parsed.spec.payload_hash.algorithm != "sha256"
        || parsed.spec.payload_hash.value != payload_hash
    {
        return Err("its log entry is for another statement".into());
    }
    let [logged] = parsed.spec.signatures.as_slice() else {
        return Err("its log entry does not hold exactly one signature".into());
    };
    if B64.decode(&logged.signature).ok().as_deref() != Some(signature) {
        return Err("its log entry holds another signature".into());
    }
    let logged_cert = B64
        .decode(&logged.verifier)
        .ok()
        .and_then(|pem| pem_to_der(&pem));
    if logged_cert.as_deref() != Some(cert_der) {
        return Err("its log entry holds another certificate".into());
    }

    // The signed entry timestamp: the log promised to include this entry at that time.
    let promise = entry
        .inclusion_promise
        .as_ref()
        .ok_or("its log entry has no signed entry timestamp")?;
    let set = B64
        .decode(&promise.signed_entry_timestamp)
        .map_err(|e| format!("its signed entry timestamp is not base64 ({e})"))?;
    // RFC 8785 canonical JSON of these four members: keys sorted, no spaces; base64 and hex
    // need no escaping.
    let signed = format!(
        r#"{{"body":"{}","integratedTime":{},"logID":"{}","logIndex":{}}}"#,
        entry.canonicalized_body,
        integrated_time,
        hex(&key_id),
        entry.log_index.0
    );
    verify_with_spki(&log.spki, signed.as_bytes(), &set)
        .map_err(|_| "its signed entry timestamp does not verify with the log's key".to_string())?;

    // The inclusion proof, up to a checkpoint the log signed.
    let proof = entry
        .inclusion_proof
        .as_ref()
        .ok_or("its log entry has no inclusion proof")?;
    let mut leaf = Sha256::new();
    leaf.update([0u8]);
    leaf.update(&body);
    let leaf: [u8; 32] = leaf.finalize().into();
    let hashes = proof
        .hashes
        .iter()
        .map(|h| {
            B64.decode(h)
                .ok()
                .and_then(|v| <[u8; 32]>::try_from(v).ok())
        })
        .collect::<Option<Vec<_>>>()
        .ok_or("its inclusion proof holds a hash that is not 32 bytes of base64")?;
    let computed = merkle_root(proof.log_index.0, proof.tree_size.0, leaf, &hashes)
        .ok_or("its inclusion proof has the wrong shape for its tree")?;
    let root_hash = B64.decode(&proof.root_hash).unwrap_or_default();
    if computed.as_slice() != root_hash {
        return Err("its inclusion proof does not lead to the tree's root hash".into());
    }
    check_checkpoint(
        &proof.checkpoint.envelope,
        proof.tree_size.0,
        &root_hash,
        log,
    )?;
    Ok((integrated_time, entry.log_index.0))
}

/// RFC 9162 §2.1.3.2: the root a leaf's audit path leads to.
fn merkle_root(index: u64, size: u64, leaf: [u8; 32], proof: &[[u8; 32]]) -> Option<[u8; 32]> {
    if index >= size {
        return None;
    }
    let node = |l: &[u8], r: &[u8]| -> [u8; 32] {
        let mut h = Sha256::new();
        h.update([1u8]);
        h.update(l);
        h.update(r);
        h.finalize().into()
    };
    let (mut f, mut s, mut r) = (index, size - 1, leaf);
    for p in proof {
        if s == 0 {
            return None;
        }
        if f & 1 == 1 || f == s {
            r = node(p, &r);
            while f & 1 == 0 && f != 0 {
                f >>= 1;
                s >>= 1;
            }
        } else {
            r = node(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    (s == 0).then_some(r)
}

/// A signed note (the transparency log's checkpoint) for `size` and `root`, signed by `log`.
fn check_checkpoint(note: &str, size: u64, root: &[u8], log: &LogKey) -> Result<(), String> {
    let split = note
        .find("\n\n")
        .ok_or("its checkpoint is not a signed note")?;
    let (text, sigs) = (&note[..split + 1], &note[split + 2..]);
    let mut lines = text.lines();
    // The origin names the log (`HOST - TREE ID`): a checkpoint of another log is refused.
    if !lines
        .next()
        .is_some_and(|origin| origin.starts_with(&format!("{} - ", log.host)))
    {
        return Err("its checkpoint is from another log".into());
    }
    let logged_size: Option<u64> = lines.next().and_then(|l| l.parse().ok());
    let logged_root = lines.next().and_then(|l| B64.decode(l).ok());
    if logged_size != Some(size) || logged_root.as_deref() != Some(root) {
        return Err("its checkpoint is for another tree".into());
    }
    for line in sigs.lines() {
        let Some(rest) = line.strip_prefix("\u{2014} ") else {
            continue;
        };
        let Some(sig) = rest.rsplit(' ').next().and_then(|s| B64.decode(s).ok()) else {
            continue;
        };
        if sig.len() > 4
            && sig[..4] == log.key_id[..4]
            && verify_with_spki(&log.spki, text.as_bytes(), &sig[4..]).is_ok()
        {
            return Ok(());
        }
    }
    Err("its checkpoint is not signed by the log's key".into())
}

// ---- 5. the publisher ----

fn match_publisher(
    publisher: &serde_json::Value,
    id: &CheckedIdentity,
) -> Result<Publisher, String> {
    let field = |k: &str| {
        publisher
            .get(k)
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    let kind = field("kind").ok_or("its bundle's publisher has no kind")?;
    let mismatch = |what: &str, want: String, got: Option<&str>| {
        format!(
            "its bundle names the {kind} publisher {want}, and the certificate's {what} is {}",
            got.unwrap_or("missing")
        )
    };
    let base = |mut p: Publisher| {
        p.identity = id.identity.clone();
        p.integrated_time = id.integrated_time;
        p.log_index = id.log_index;
        p
    };
    let blank = |kind: &str, repository: String, workflow: Option<String>| Publisher {
        kind: kind.into(),
        repository,
        workflow,
        identity: String::new(),
        integrated_time: 0,
        log_index: 0,
    };
    match kind.as_str() {
        "GitHub" => {
            let repo = field("repository").ok_or("its GitHub publisher has no repository")?;
            let workflow = field("workflow").ok_or("its GitHub publisher has no workflow")?;
            if id.issuer != "https://token.actions.githubusercontent.com" {
                return Err(mismatch("OIDC issuer", repo, Some(&id.issuer)));
            }
            let repo_url = format!("https://github.com/{repo}");
            check_repository(&repo_url, id).map_err(|got| mismatch("source repository", repo.clone(), got))?;
            check_build_config(&repo_url, &format!("/.github/workflows/{workflow}"), id).map_err(
                |got| mismatch("workflow", format!("{repo} ({workflow})"), got),
            )?;
            Ok(base(blank("GitHub", repo, Some(workflow))))
        }
        "GitLab" => {
            let repo = field("repository").ok_or("its GitLab publisher has no repository")?;
            let file = field("workflow_filepath")
                .ok_or("its GitLab publisher has no workflow_filepath")?;
            if id.issuer != "https://gitlab.com" {
                return Err(mismatch("OIDC issuer", repo, Some(&id.issuer)));
            }
            let repo_url = format!("https://gitlab.com/{repo}");
            check_repository(&repo_url, id).map_err(|got| mismatch("source repository", repo.clone(), got))?;
            check_build_config(&repo_url, &format!("//{file}"), id)
                .map_err(|got| mismatch("CI file", format!("{repo} ({file})"), got))?;
            Ok(base(blank("GitLab", repo, Some(file))))
        }
        "Google" => {
            let email = field("email").ok_or("its Google publisher has no email")?;
            if id.issuer != "https://accounts.google.com" || id.identity != email {
                return Err(mismatch("identity", email, Some(&id.identity)));
            }
            Ok(base(blank("Google", email, None)))
        }
        other => Err(format!(
            "its bundle's publisher is of kind {other}, which ferry cannot check against a certificate"
        )),
    }
}

/// The certificate's source repository is `repo_url` (repository names are not case-sensitive
/// on GitHub or GitLab); on mismatch, gives what the certificate says.
fn check_repository<'a>(repo_url: &str, id: &'a CheckedIdentity) -> Result<(), Option<&'a str>> {
    match id.source_repository.as_deref() {
        Some(got) if got.eq_ignore_ascii_case(repo_url) => Ok(()),
        got => Err(got),
    }
}

/// The certificate's build config URI is exactly `REPO_URL PATH @ REF`, where REF is the
/// source ref or digest the certificate names: the repository compared without case, the path
/// (a file name, which is case-sensitive) and the ref byte for byte. On mismatch, gives what
/// the certificate says.
fn check_build_config<'a>(
    repo_url: &str,
    path: &str,
    id: &'a CheckedIdentity,
) -> Result<(), Option<&'a str>> {
    let got = id.build_config.as_deref();
    let ok = got.is_some_and(|config| {
        let Some((head, rest)) = config.split_at_checked(repo_url.len()) else {
            return false;
        };
        head.eq_ignore_ascii_case(repo_url)
            && [id.source_ref.as_deref(), id.source_digest.as_deref()]
                .into_iter()
                .flatten()
                .any(|r| rest == format!("{path}@{r}"))
    });
    if ok {
        Ok(())
    } else {
        Err(got)
    }
}

// ---- the trust root ----

struct TrustRoot {
    tlogs: Vec<LogKey>,
    ctlogs: Vec<LogKey>,
    cas: Vec<CertAuthority>,
}

struct LogKey {
    spki: Vec<u8>,
    key_id: Vec<u8>,
    valid: Validity,
    /// `PKIX_ECDSA_P256_SHA_256`, `PKIX_ED25519`, ...
    key_details: String,
    /// The log's host (`baseUrl`'s), which its checkpoints name as their origin.
    host: String,
}

struct CertAuthority {
    /// DER certificates, the issuing CA first and the root last.
    chain: Vec<Vec<u8>>,
    valid: Validity,
}

#[derive(Clone, Copy)]
struct Validity {
    start: u64,
    end: Option<u64>,
}

impl Validity {
    fn contains(&self, t: u64) -> bool {
        t >= self.start && self.end.is_none_or(|e| t <= e)
    }
}

/// Sigstore's public-good `trusted_root.json` (protobuf-specs `TrustedRoot`), as recorded.
const TRUSTED_ROOT: &str = include_str!("sigstore_trusted_root.json");

fn trust_root() -> &'static TrustRoot {
    static ROOT: OnceLock<TrustRoot> = OnceLock::new();
    ROOT.get_or_init(|| parse_trust_root(TRUSTED_ROOT).expect("the built-in trust root parses"))
}

fn parse_trust_root(json: &str) -> Result<TrustRoot, String> {
    let v: serde_json::Value = serde_json::from_str(json).map_err(|e| e.to_string())?;
    let validity = |v: &serde_json::Value| -> Result<Validity, String> {
        let start = v
            .get("start")
            .and_then(|s| s.as_str())
            .and_then(parse_rfc3339)
            .ok_or("validity without a start")?;
        let end = v
            .get("end")
            .and_then(|s| s.as_str())
            .and_then(parse_rfc3339);
        Ok(Validity { start, end })
    };
    let logs = |key: &str| -> Result<Vec<LogKey>, String> {
        let mut out = Vec::new();
        for log in v.get(key).and_then(|l| l.as_array()).into_iter().flatten() {
            let pk = &log["publicKey"];
            let spki = B64
                .decode(pk["rawBytes"].as_str().unwrap_or_default())
                .map_err(|e| e.to_string())?;
            let key_id = B64
                .decode(log["logId"]["keyId"].as_str().unwrap_or_default())
                .map_err(|e| e.to_string())?;
            let host = log["baseUrl"]
                .as_str()
                .and_then(|u| url::Url::parse(u).ok())
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_default();
            out.push(LogKey {
                spki,
                key_id,
                valid: validity(&pk["validFor"])?,
                key_details: pk["keyDetails"].as_str().unwrap_or_default().to_string(),
                host,
            });
        }
        Ok(out)
    };
    let mut cas = Vec::new();
    for ca in v["certificateAuthorities"].as_array().into_iter().flatten() {
        let chain = ca["certChain"]["certificates"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|c| B64.decode(c["rawBytes"].as_str().unwrap_or_default()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        cas.push(CertAuthority {
            chain,
            valid: validity(&ca["validFor"])?,
        });
    }
    Ok(TrustRoot {
        tlogs: logs("tlogs")?,
        ctlogs: logs("ctlogs")?,
        cas,
    })
}

/// `2021-01-12T11:53:27Z` or with fractional seconds, to Unix seconds.
fn parse_rfc3339(s: &str) -> Option<u64> {
    let s = s.strip_suffix('Z')?;
    let (date, time) = s.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.split('.').next()?;
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (h, min, sec) = (t.next()??, t.next()??, t.next()??);
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&m)
        || !(1..=31).contains(&day)
        || !(0..24).contains(&h)
        || !(0..60).contains(&min)
        || !(0..=60).contains(&sec)
    {
        return None;
    }
    // Days from the civil date (Howard Hinnant's algorithm).
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * (m + if m > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    u64::try_from(days * 86_400 + h * 3600 + min * 60 + sec).ok()
}

// ---- small helpers: signatures, DER, hex ----

/// Verifies `sig` over `msg` with a DER SubjectPublicKeyInfo: ECDSA P-256/SHA-256,
/// P-384/SHA-384 (ASN.1 signatures) or Ed25519.
fn verify_with_spki(spki: &[u8], msg: &[u8], sig: &[u8]) -> Result<(), &'static str> {
    const EC: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
    const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
    const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
    const ED25519: &[u8] = &[0x2b, 0x65, 0x70];
    let (_, seq, _) = der_tlv(spki).ok_or("key is not DER")?;
    let (_, alg, rest) = der_tlv(seq).ok_or("key is not DER")?;
    let (_, bits, _) = der_tlv(rest).ok_or("key is not DER")?;
    let point = bits.get(1..).ok_or("key is empty")?;
    let (_, alg_oid, params) = der_tlv(alg).ok_or("key is not DER")?;
    let algorithm: &dyn signature::VerificationAlgorithm = if alg_oid == EC {
        let (_, curve, _) = der_tlv(params).ok_or("key has no curve")?;
        if curve == P256 {
            &signature::ECDSA_P256_SHA256_ASN1
        } else if curve == P384 {
            &signature::ECDSA_P384_SHA384_ASN1
        } else {
            return Err("unsupported curve");
        }
    } else if alg_oid == ED25519 {
        &signature::ED25519
    } else {
        return Err("unsupported key type");
    };
    UnparsedPublicKey::new(algorithm, point)
        .verify(msg, sig)
        .map_err(|_| "bad signature")
}

/// One DER TLV: (tag, contents, rest).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        first as usize
    } else {
        let n = (first & 0x7f) as usize;
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let len = rest[..n]
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | *b as usize);
        rest = &rest[n..];
        len
    };
    (rest.len() >= len).then(|| (tag, &rest[..len], &rest[len..]))
}

fn der_header(tag: u8, len: usize) -> Vec<u8> {
    let mut out = vec![tag];
    if len < 0x80 {
        out.push(len as u8);
    } else {
        let bytes: Vec<u8> = len
            .to_be_bytes()
            .into_iter()
            .skip_while(|b| *b == 0)
            .collect();
        out.push(0x80 | bytes.len() as u8);
        out.extend(bytes);
    }
    out
}

/// The DER of an OID's TLV, from its dotted form.
fn oid_der(dotted: &str) -> Vec<u8> {
    let arcs: Vec<u64> = dotted.split('.').filter_map(|a| a.parse().ok()).collect();
    let mut body = vec![(arcs[0] * 40 + arcs[1]) as u8];
    for &arc in &arcs[2..] {
        let mut chunk = vec![(arc & 0x7f) as u8];
        let mut a = arc >> 7;
        while a > 0 {
            chunk.push(0x80 | (a & 0x7f) as u8);
            a >>= 7;
        }
        chunk.reverse();
        body.extend(chunk);
    }
    let mut out = der_header(0x06, body.len());
    out.extend(body);
    out
}

/// The TBSCertificate re-encoded without the extension whose OID TLV is `oid` (how a CT log's
/// precertificate entry is derived from the final certificate).
fn tbs_without_extension(tbs: &[u8], oid: &[u8]) -> Option<Vec<u8>> {
    let (tag, mut fields, _) = der_tlv(tbs)?;
    let mut out_fields = Vec::new();
    while !fields.is_empty() {
        let (ftag, contents, rest) = der_tlv(fields)?;
        let whole = &fields[..fields.len() - rest.len()];
        if ftag == 0xa3 {
            let (stag, mut exts, _) = der_tlv(contents)?;
            let mut kept = Vec::new();
            while !exts.is_empty() {
                let (_, ext, erest) = der_tlv(exts)?;
                let ext_whole = &exts[..exts.len() - erest.len()];
                if !ext.starts_with(oid) {
                    kept.extend_from_slice(ext_whole);
                }
                exts = erest;
            }
            let mut seq = der_header(stag, kept.len());
            seq.extend(kept);
            out_fields.extend(der_header(0xa3, seq.len()));
            out_fields.extend(seq);
        } else {
            out_fields.extend_from_slice(whole);
        }
        fields = rest;
    }
    let mut out = der_header(tag, out_fields.len());
    out.extend(out_fields);
    Some(out)
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Some(head)
    }
    fn take_u16_prefixed(&mut self) -> Option<&'a [u8]> {
        let len = self.take(2)?;
        self.take(u16::from_be_bytes([len[0], len[1]]) as usize)
    }
}

fn pem_to_der(pem: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(pem).ok()?;
    let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
    B64.decode(body.trim()).ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Entry points for the `provenance` fuzz target (`crates/ferry-fuzz`): the verifier's inner
/// readers, given hostile bytes directly (a random provenance object fails long before them).
/// Not part of the library's interface.
#[doc(hidden)]
pub fn fuzz_internals(data: &[u8]) {
    let root = trust_root();
    let _ = tbs_without_extension(data, &oid_der(SCT_LIST));
    let _ = verify_with_spki(data, b"message", data);
    if let Ok(text) = std::str::from_utf8(data) {
        if let Some(log) = root.tlogs.first() {
            let _ = check_checkpoint(text, 1, &[0; 32], log);
        }
        let _ = check_statement(data, "demo-1.0.tar.gz", "00");
        let _ = parse_rfc3339(text);
    }
    if let Ok((_, cert)) = X509Certificate::from_der(data) {
        let _ = cert_identity(&cert);
        let _ = fulcio_ext(&cert, FULCIO_BUILD_CONFIG);
        let _ = fulcio_ext_raw(&cert, FULCIO_ISSUER_V1);
        let _ = check_sct(&cert, data, root);
        let _ = check_certificate(data, &cert, 1_733_354_041, root);
    }
    let mut hashes = Vec::new();
    for chunk in data.chunks_exact(32).take(64) {
        hashes.push(<[u8; 32]>::try_from(chunk).unwrap_or([0; 32]));
    }
    let (index, size) = match data {
        [a, b, ..] => (u64::from(*a), u64::from(*b)),
        _ => (0, 0),
    };
    let _ = merkle_root(index, size, [0; 32], &hashes);
}

#[cfg(test)]
mod tests {
    use super::*;

    const PROVENANCE: &str =
        include_str!("../tests/data/attestations/pypi_attestations-0.0.19.tar.gz.provenance");
    const FILE: &str = "pypi_attestations-0.0.19.tar.gz";
    const SHA: &str = "9bb1add04b1b4e182be6b0b80931593f7a291eb49d69b4fd728a5d4cbcdc4bd3";
    const GITLAB: &str = include_str!(
        "../tests/data/attestations/gitlab_oidc_project-0.0.3.tar.gz.publish.attestation"
    );
    const GITLAB_FILE: &str = "gitlab_oidc_project-0.0.3.tar.gz";
    const GITLAB_SHA: &str = "c1ca9b0d85df1606451098233018534497bf584362e10e4a8c21dfaea92c02a8";
    /// Signed against Sigstore's staging instance, whose log is not in the production root.
    const STAGING: &str = include_str!(
        "../tests/data/attestations/rfc8785-0.1.2-py3-none-any.whl.publish.attestation"
    );

    fn provenance_value() -> serde_json::Value {
        serde_json::from_str(PROVENANCE).unwrap()
    }

    fn verify_value(v: &serde_json::Value) -> Result<Vec<Publisher>, AttestationError> {
        verify_provenance(v.to_string().as_bytes(), FILE, SHA)
    }

    fn reason(r: Result<Vec<Publisher>, AttestationError>) -> String {
        r.expect_err("must not verify").to_string()
    }

    #[test]
    fn recorded_github_provenance_verifies() {
        let publishers = verify_provenance(PROVENANCE.as_bytes(), FILE, SHA).unwrap();
        assert_eq!(publishers.len(), 1);
        let p = &publishers[0];
        assert_eq!(p.kind, "GitHub");
        assert_eq!(p.repository, "trailofbits/pypi-attestations");
        assert_eq!(p.workflow.as_deref(), Some("release.yml"));
        assert_eq!(p.integrated_time, 1_733_354_041);
        assert_eq!(p.log_index, 153_454_663);
        assert!(
            p.identity
                .ends_with("/.github/workflows/release.yml@refs/tags/v0.0.19"),
            "{p:?}"
        );
        assert_eq!(
            p.describe(),
            "GitHub trailofbits/pypi-attestations (workflow release.yml)"
        );
    }

    #[test]
    fn recorded_gitlab_attestation_verifies_and_names_its_project() {
        let att: serde_json::Value = serde_json::from_str(GITLAB).unwrap();
        let id = verify_attestation(
            &serde_json::from_value(att.clone()).unwrap(),
            GITLAB_FILE,
            GITLAB_SHA,
        )
        .unwrap();
        assert_eq!(id.issuer, "https://gitlab.com");
        let repo = id
            .source_repository
            .as_deref()
            .unwrap()
            .trim_start_matches("https://gitlab.com/")
            .to_string();
        let file = id
            .build_config
            .as_deref()
            .unwrap()
            .split("//")
            .nth(2)
            .unwrap()
            .split('@')
            .next()
            .unwrap()
            .to_string();
        let wrap = |repository: &str| {
            serde_json::json!({"version": 1, "attestation_bundles": [{
                "publisher": {"kind": "GitLab", "repository": repository, "workflow_filepath": file, "environment": ""},
                "attestations": [att.clone()]}]})
            .to_string()
        };
        let publishers =
            verify_provenance(wrap(&repo).as_bytes(), GITLAB_FILE, GITLAB_SHA).unwrap();
        assert_eq!(publishers[0].kind, "GitLab");
        assert_eq!(publishers[0].repository, repo);
        let err = verify_provenance(wrap("someone/else").as_bytes(), GITLAB_FILE, GITLAB_SHA)
            .unwrap_err()
            .to_string();
        assert!(err.contains("source repository"), "{err}");
    }

    #[test]
    fn another_files_digest_is_refused() {
        let err = verify_provenance(PROVENANCE.as_bytes(), FILE, &"0".repeat(64))
            .unwrap_err()
            .to_string();
        assert!(err.contains("this file's sha256 is 0000"), "{err}");
        let err = verify_provenance(PROVENANCE.as_bytes(), "other-1.0.tar.gz", SHA)
            .unwrap_err()
            .to_string();
        assert!(err.contains("not \"other-1.0.tar.gz\""), "{err}");
    }

    #[test]
    fn the_wrong_publisher_is_refused() {
        let mut v = provenance_value();
        v["attestation_bundles"][0]["publisher"]["repository"] =
            "attacker/pypi-attestations".into();
        assert!(reason(verify_value(&v)).contains("source repository"));
        let mut v = provenance_value();
        v["attestation_bundles"][0]["publisher"]["workflow"] = "other.yml".into();
        assert!(reason(verify_value(&v)).contains("workflow"));
        let mut v = provenance_value();
        v["attestation_bundles"][0]["publisher"]["kind"] = "Elsewhere".into();
        assert!(reason(verify_value(&v)).contains("cannot check"));
    }

    #[test]
    fn the_workflow_must_be_the_certificates_exactly_and_the_environment_is_not_claimed() {
        // File names are case-sensitive: `Release.yml` is another workflow.
        let mut v = provenance_value();
        v["attestation_bundles"][0]["publisher"]["workflow"] = "Release.yml".into();
        assert!(reason(verify_value(&v)).contains("workflow"));
        let mut v = provenance_value();
        v["attestation_bundles"][0]["publisher"]["workflow"] = "release.yml@refs".into();
        assert!(reason(verify_value(&v)).contains("workflow"));
        // The repository's case does not matter, as on GitHub.
        let mut v = provenance_value();
        v["attestation_bundles"][0]["publisher"]["repository"] =
            "TrailOfBits/PyPI-Attestations".into();
        verify_value(&v).unwrap();
        // An environment is the index's word only: it is not reported as verified.
        let mut v = provenance_value();
        v["attestation_bundles"][0]["publisher"]["environment"] = "release".into();
        let publishers = verify_value(&v).unwrap();
        let json = serde_json::to_string(&publishers).unwrap();
        assert!(!json.contains("environment"), "{json}");
        assert!(!publishers[0].describe().contains("environment"));
    }

    #[test]
    fn a_checkpoint_of_another_log_is_refused() {
        let mut v = provenance_value();
        let cp = &mut att(&mut v)["verification_material"]["transparency_entries"][0]
            ["inclusionProof"]["checkpoint"]["envelope"];
        let text =
            cp.as_str()
                .unwrap()
                .replacen("rekor.sigstore.dev - ", "rekor.elsewhere.invalid - ", 1);
        *cp = text.into();
        assert!(reason(verify_value(&v)).contains("from another log"));
    }

    #[test]
    fn oversized_provenance_is_refused_unread() {
        let big = vec![b' '; MAX_PROVENANCE_BYTES + 1];
        let err = verify_provenance(&big, FILE, SHA).unwrap_err().to_string();
        assert!(err.contains("at most"), "{err}");
        let mut v = provenance_value();
        let one = att(&mut v).clone();
        v["attestation_bundles"][0]["attestations"] =
            serde_json::Value::Array(vec![one; MAX_ATTESTATIONS + 1]);
        assert!(reason(verify_value(&v)).contains("attestations (at most"));
    }

    fn att(v: &mut serde_json::Value) -> &mut serde_json::Value {
        &mut v["attestation_bundles"][0]["attestations"][0]
    }

    /// Flips one bit in the base64 field at `path` (inside the first attestation).
    fn tamper(path: &[&str]) -> String {
        let mut v = provenance_value();
        let mut field = att(&mut v);
        for p in path {
            field = match p.parse::<usize>() {
                Ok(i) => &mut field[i],
                Err(_) => &mut field[*p],
            };
        }
        let mut bytes = B64.decode(field.as_str().unwrap()).unwrap();
        let at = bytes.len() / 2;
        bytes[at] ^= 1;
        *field = B64.encode(bytes).into();
        reason(verify_value(&v))
    }

    #[test]
    fn a_changed_byte_anywhere_is_refused() {
        let cases: &[(&[&str], &str)] = &[
            (&["envelope", "signature"], "signature does not verify"),
            (&["envelope", "statement"], ""),
            (&["verification_material", "certificate"], ""),
            (
                &[
                    "verification_material",
                    "transparency_entries",
                    "0",
                    "inclusionPromise",
                    "signedEntryTimestamp",
                ],
                "signed entry timestamp",
            ),
            (
                &[
                    "verification_material",
                    "transparency_entries",
                    "0",
                    "inclusionProof",
                    "hashes",
                    "3",
                ],
                "inclusion proof",
            ),
            (
                &[
                    "verification_material",
                    "transparency_entries",
                    "0",
                    "inclusionProof",
                    "rootHash",
                ],
                "root hash",
            ),
            (
                &[
                    "verification_material",
                    "transparency_entries",
                    "0",
                    "canonicalizedBody",
                ],
                "",
            ),
        ];
        for (path, want) in cases {
            let got = tamper(path);
            assert!(got.contains(want), "{path:?}: {got}");
        }
    }

    #[test]
    fn a_changed_log_time_or_checkpoint_is_refused() {
        let mut v = provenance_value();
        att(&mut v)["verification_material"]["transparency_entries"][0]["integratedTime"] =
            "1733354042".into();
        assert!(reason(verify_value(&v)).contains("signed entry timestamp"));
        let mut v = provenance_value();
        let cp = &mut att(&mut v)["verification_material"]["transparency_entries"][0]
            ["inclusionProof"]["checkpoint"]["envelope"];
        let text = cp.as_str().unwrap().replace("\n\n", "\nextra line\n\n");
        *cp = text.into();
        assert!(reason(verify_value(&v)).contains("checkpoint is not signed"));
    }

    #[test]
    fn the_certificate_is_checked_at_the_logged_time_and_by_its_sct() {
        let v = provenance_value();
        let der = B64
            .decode(
                v["attestation_bundles"][0]["attestations"][0]["verification_material"]
                    ["certificate"]
                    .as_str()
                    .unwrap(),
            )
            .unwrap();
        let (_, cert) = X509Certificate::from_der(&der).unwrap();
        let root = trust_root();
        check_certificate(&der, &cert, 1_733_354_041, root).unwrap();
        // Fulcio certificates live ten minutes: a day later the chain is refused.
        let err = check_certificate(&der, &cert, 1_733_354_041 + 86_400, root).unwrap_err();
        assert!(err.contains("does not chain"), "{err}");
        // The SCT signs the issuer's key hash: any other issuer key fails it.
        let err = check_sct(&cert, cert.public_key().raw, root).unwrap_err();
        assert!(err.contains("SCT does not verify"), "{err}");
        let empty = TrustRoot {
            tlogs: vec![],
            ctlogs: vec![],
            cas: vec![],
        };
        let err = check_certificate(&der, &cert, 1_733_354_041, &empty).unwrap_err();
        assert!(err.contains("no certificate authority"), "{err}");
    }

    #[test]
    fn a_staging_signature_is_refused() {
        let att: Attestation = serde_json::from_str(STAGING).unwrap();
        let err = verify_attestation(
            &att,
            "rfc8785-0.1.2-py3-none-any.whl",
            "c4e92e9ecc828bef2aa7dba1de8ac983511f7532a0df11c770d39099a25cf201",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("not in the trust root"), "{err}");
    }

    #[test]
    fn malformed_provenance_is_named() {
        for bad in [
            "",
            "{}",
            r#"{"version":2,"attestation_bundles":[]}"#,
            r#"{"version":1,"attestation_bundles":[]}"#,
        ] {
            let err = verify_provenance(bad.as_bytes(), FILE, SHA).unwrap_err();
            assert!(
                matches!(err, AttestationError::Malformed { .. }),
                "{bad}: {err}"
            );
            assert!(err.to_string().contains(FILE));
        }
    }

    #[test]
    fn merkle_paths_follow_rfc_9162() {
        // A tree of 5 leaves, computed by hand from its definition.
        let leaf = |i: u8| -> [u8; 32] { Sha256::digest([0u8, i]).into() };
        let node = |l: [u8; 32], r: [u8; 32]| -> [u8; 32] {
            let mut h = Sha256::new();
            h.update([1u8]);
            h.update(l);
            h.update(r);
            h.finalize().into()
        };
        let (l0, l1, l2, l3, l4) = (leaf(0), leaf(1), leaf(2), leaf(3), leaf(4));
        let (n01, n23) = (node(l0, l1), node(l2, l3));
        let n03 = node(n01, n23);
        let root = node(n03, l4);
        assert_eq!(merkle_root(2, 5, l2, &[l3, n01, l4]), Some(root));
        assert_eq!(merkle_root(4, 5, l4, &[n03]), Some(root));
        assert_eq!(merkle_root(0, 5, l0, &[l1, n23, l4]), Some(root));
        assert_ne!(merkle_root(0, 5, l1, &[l1, n23, l4]), Some(root));
        assert_eq!(merkle_root(5, 5, l4, &[n03]), None);
        assert_eq!(merkle_root(4, 5, l4, &[n03, n03]), None);
    }

    #[test]
    fn trust_root_times_parse() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Some(0));
        assert_eq!(parse_rfc3339("2021-01-12T11:53:27Z"), Some(1_610_452_407));
        assert_eq!(
            parse_rfc3339("2022-12-31T23:59:59.999Z"),
            Some(1_672_531_199)
        );
        // Out-of-range fields give nothing (and no overflow).
        assert_eq!(parse_rfc3339("1970-01-01T3000000000000000:00:00Z"), None);
        assert_eq!(parse_rfc3339("9223372036854775807-01-01T00:00:00Z"), None);
        assert_eq!(parse_rfc3339("2021-13-01T00:00:00Z"), None);
        let root = trust_root();
        assert!(!root.tlogs.is_empty() && !root.ctlogs.is_empty() && !root.cas.is_empty());
    }
}
