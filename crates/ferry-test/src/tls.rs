//! A throwaway certificate authority for HTTPS tests: a CA, a server certificate for
//! 127.0.0.1/localhost and a client certificate, all made in code and written as PEM files.

use std::path::PathBuf;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// Which server certificate a TLS test server presents.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerCert {
    /// For 127.0.0.1 and localhost, valid now.
    Good,
    /// For another name only (`wrong.invalid`).
    WrongName,
    /// For 127.0.0.1 and localhost, but expired years ago.
    Expired,
}

/// A test CA and what it signed.
pub struct TestCa {
    _dir: tempfile::TempDir,
    /// The CA certificate (PEM): what `--cert`/`SSL_CERT_FILE` should point at.
    pub ca_pem: PathBuf,
    /// A client certificate and its key in one PEM file (for `--client-cert`).
    pub client_pem: PathBuf,
    ca_der: CertificateDer<'static>,
    server_chain: Vec<CertificateDer<'static>>,
    server_key: Vec<u8>,
    /// The other server certificates (chain, key), by kind.
    others: Vec<(ServerCert, Vec<CertificateDer<'static>>, Vec<u8>)>,
}

impl TestCa {
    pub fn new() -> Self {
        let dir = tempfile::Builder::new()
            .prefix("ferry-test-ca-")
            .tempdir()
            .expect("temp dir");
        let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
        ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca_params
            .distinguished_name
            .push(DnType::CommonName, "ferry test CA");
        ca_params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().expect("CA key"))
            .expect("CA cert");

        let server_key = KeyPair::generate().expect("server key");
        let mut server_params =
            CertificateParams::new(vec!["127.0.0.1".to_string(), "localhost".to_string()])
                .expect("server params");
        server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let server = server_params
            .signed_by(&server_key, &ca)
            .expect("server cert");

        let mut others = Vec::new();
        for kind in [ServerCert::WrongName, ServerCert::Expired] {
            let key = KeyPair::generate().expect("server key");
            let names = match kind {
                ServerCert::WrongName => vec!["wrong.invalid".to_string()],
                _ => vec!["127.0.0.1".to_string(), "localhost".to_string()],
            };
            let mut params = CertificateParams::new(names).expect("server params");
            params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
            if kind == ServerCert::Expired {
                params.not_before = rcgen::date_time_ymd(2001, 1, 1);
                params.not_after = rcgen::date_time_ymd(2002, 1, 1);
            }
            let cert = params.signed_by(&key, &ca).expect("server cert");
            others.push((kind, vec![cert.der().clone()], key.serialize_der()));
        }

        let client_key = KeyPair::generate().expect("client key");
        let mut client_params =
            CertificateParams::new(Vec::<String>::new()).expect("client params");
        client_params
            .distinguished_name
            .push(DnType::CommonName, "ferry test client");
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let client = client_params
            .signed_by(&client_key, &ca)
            .expect("client cert");

        let ca_pem = dir.path().join("ca.pem");
        fs_err::write(&ca_pem, ca.pem()).expect("write CA");
        let client_pem = dir.path().join("client.pem");
        fs_err::write(
            &client_pem,
            format!("{}{}", client.pem(), client_key.serialize_pem()),
        )
        .expect("write client cert");
        Self {
            ca_der: ca.der().clone(),
            server_chain: vec![server.der().clone()],
            server_key: server_key.serialize_der(),
            others,
            ca_pem,
            client_pem,
            _dir: dir,
        }
    }

    fn provider() -> Arc<rustls::crypto::CryptoProvider> {
        Arc::new(rustls::crypto::ring::default_provider())
    }

    /// A server configuration presenting the 127.0.0.1 certificate; with `require_client_cert`,
    /// clients must present a certificate signed by this CA.
    pub fn server_config(&self, require_client_cert: bool) -> Arc<rustls::ServerConfig> {
        self.server_config_with(require_client_cert, ServerCert::Good)
    }

    /// As [`TestCa::server_config`], presenting the `cert` kind of certificate.
    pub fn server_config_with(
        &self,
        require_client_cert: bool,
        cert: ServerCert,
    ) -> Arc<rustls::ServerConfig> {
        let builder = rustls::ServerConfig::builder_with_provider(Self::provider())
            .with_safe_default_protocol_versions()
            .expect("TLS versions");
        let builder = if require_client_cert {
            let mut roots = rustls::RootCertStore::empty();
            roots.add(self.ca_der.clone()).expect("CA root");
            let verifier = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                Self::provider(),
            )
            .build()
            .expect("client verifier");
            builder.with_client_cert_verifier(verifier)
        } else {
            builder.with_no_client_auth()
        };
        let (chain, key) = match self.others.iter().find(|(kind, _, _)| *kind == cert) {
            Some((_, chain, key)) => (chain.clone(), key.clone()),
            None => (self.server_chain.clone(), self.server_key.clone()),
        };
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key));
        Arc::new(builder.with_single_cert(chain, key).expect("server config"))
    }
}

impl Default for TestCa {
    fn default() -> Self {
        Self::new()
    }
}
