//! Configuring and connecting a [`Client`].

use std::sync::Arc;
use std::time::Duration;

use tonic::metadata::AsciiMetadataValue;
use tonic::service::Interceptor;
use tonic::transport::{Channel, Endpoint};

use crate::{Client, Error, RetryPolicy};

/// Where the bearer token comes from.
#[derive(Clone)]
pub enum Credentials {
    /// No token (only health and reflection answer).
    None,
    /// A fixed token.
    Bearer(String),
    /// A function asked before every call, e.g. to refresh tokens.
    Provider(Arc<dyn Fn() -> String + Send + Sync>),
}

impl std::fmt::Debug for Credentials {
    // Never print a token.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Credentials::None => "Credentials::None",
            Credentials::Bearer(_) => "Credentials::Bearer(..)",
            Credentials::Provider(_) => "Credentials::Provider(..)",
        })
    }
}

/// Configures a [`Client`]; start with [`Client::builder`].
///
/// ```no_run
/// # async fn run() -> Result<(), peerlab_client::Error> {
/// use std::time::Duration;
/// use peerlab_client::{Client, RetryPolicy};
/// let client = Client::builder("http://127.0.0.1:50051")
///     .token_provider(|| std::env::var("PEERLAB_TOKEN").unwrap_or_default())
///     .timeout(Duration::from_secs(10))
///     .connect_timeout(Duration::from_secs(3))
///     .keepalive(Duration::from_secs(20), Duration::from_secs(10))
///     .retry(RetryPolicy { max_attempts: 6, ..RetryPolicy::default() })
///     .connect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug)]
pub struct Builder {
    endpoint: String,
    credentials: Credentials,
    timeout: Duration,
    connect_timeout: Duration,
    keepalive: Option<(Duration, Duration)>,
    retry: RetryPolicy,
    #[cfg(feature = "tls")]
    tls_ca_pem: Option<Vec<u8>>,
    #[cfg(feature = "tls")]
    tls_domain: Option<String>,
}

impl Builder {
    pub(crate) fn new(endpoint: String) -> Self {
        Builder {
            endpoint,
            credentials: Credentials::None,
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            keepalive: Some((Duration::from_secs(30), Duration::from_secs(20))),
            retry: RetryPolicy::default(),
            #[cfg(feature = "tls")]
            tls_ca_pem: None,
            #[cfg(feature = "tls")]
            tls_domain: None,
        }
    }

    /// Send `token` as `authorization: Bearer <token>`.
    pub fn bearer(mut self, token: impl Into<String>) -> Self {
        self.credentials = Credentials::Bearer(token.into());
        self
    }

    /// Ask `provider` for a fresh token before every call (and every retry).
    pub fn token_provider(mut self, provider: impl Fn() -> String + Send + Sync + 'static) -> Self {
        self.credentials = Credentials::Provider(Arc::new(provider));
        self
    }

    /// Deadline of each attempt of a call (default 30 s).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Deadline for establishing the connection (default 5 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// HTTP/2 keepalive: ping every `interval`, even while idle, and drop the
    /// connection when a ping is not answered within `timeout`
    /// (default 30 s / 20 s), so a dead peer behind a load balancer is noticed.
    pub fn keepalive(mut self, interval: Duration, timeout: Duration) -> Self {
        self.keepalive = Some((interval, timeout));
        self
    }

    /// No HTTP/2 keepalive pings.
    pub fn no_keepalive(mut self) -> Self {
        self.keepalive = None;
        self
    }

    /// How calls are retried (default: [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Attempts per call in all, the first included (default 4; 1 disables retries).
    pub fn max_attempts(mut self, attempts: u32) -> Self {
        self.retry.max_attempts = attempts.max(1);
        self
    }

    /// Trust this PEM-encoded CA (instead of the public web PKI roots) for an
    /// `https://` endpoint. Needs the `tls` feature.
    #[cfg(feature = "tls")]
    pub fn tls_ca_pem(mut self, pem: impl Into<Vec<u8>>) -> Self {
        self.tls_ca_pem = Some(pem.into());
        self
    }

    /// The name the server's certificate must carry, when it differs from the
    /// endpoint's host. Needs the `tls` feature.
    #[cfg(feature = "tls")]
    pub fn tls_domain(mut self, domain: impl Into<String>) -> Self {
        self.tls_domain = Some(domain.into());
        self
    }

    fn endpoint(&self) -> Result<Endpoint, Error> {
        let mut endpoint = Endpoint::from_shared(self.endpoint.clone())?
            .timeout(self.timeout)
            .connect_timeout(self.connect_timeout)
            .tcp_nodelay(true);
        if let Some((interval, timeout)) = self.keepalive {
            endpoint =
                endpoint.http2_keep_alive_interval(interval).keep_alive_timeout(timeout).keep_alive_while_idle(true);
        }
        let https = endpoint.uri().scheme_str() == Some("https");
        #[cfg(feature = "tls")]
        if https || self.tls_ca_pem.is_some() || self.tls_domain.is_some() {
            endpoint = endpoint.tls_config(self.tls_config()?)?;
        }
        #[cfg(not(feature = "tls"))]
        if https {
            return Err(Error::InvalidRequest(format!(
                "{} is an https endpoint; build peerlab-client with the `tls` feature",
                self.endpoint
            )));
        }
        Ok(endpoint)
    }

    #[cfg(feature = "tls")]
    fn tls_config(&self) -> Result<tonic::transport::ClientTlsConfig, Error> {
        use tonic::transport::{Certificate, ClientTlsConfig};
        let mut tls = ClientTlsConfig::new();
        tls = match &self.tls_ca_pem {
            // tonic would accept anything here and fail only at the handshake.
            Some(pem) if !pem.windows(11).any(|w| w == b"-----BEGIN ") => {
                return Err(Error::InvalidRequest("the CA certificate is not PEM".into()));
            }
            Some(pem) => tls.ca_certificate(Certificate::from_pem(pem)),
            None => tls.with_webpki_roots(),
        };
        if let Some(domain) = &self.tls_domain {
            tls = tls.domain_name(domain.clone());
        }
        Ok(tls)
    }

    /// Connect now; fails if the server cannot be reached.
    pub async fn connect(self) -> Result<Client, Error> {
        let channel = self.endpoint()?.connect().await?;
        Ok(self.into_client(channel))
    }

    /// Connect on the first call, and reconnect as needed; fails only if the
    /// configuration is invalid. Must be called within a Tokio runtime.
    pub fn connect_lazy(self) -> Result<Client, Error> {
        let channel = self.endpoint()?.connect_lazy();
        Ok(self.into_client(channel))
    }

    fn into_client(self, channel: Channel) -> Client {
        Client::from_parts(channel, Auth(self.credentials), self.retry)
    }
}

/// Adds the bearer token to every call.
#[derive(Clone, Debug)]
pub struct Auth(pub(crate) Credentials);

impl Interceptor for Auth {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, tonic::Status> {
        let token = match &self.0 {
            Credentials::None => return Ok(req),
            Credentials::Bearer(t) => t.clone(),
            Credentials::Provider(f) => f(),
        };
        let mut value = AsciiMetadataValue::try_from(format!("Bearer {token}"))
            .map_err(|_| tonic::Status::invalid_argument("the token is not valid header text"))?;
        value.set_sensitive(true);
        req.metadata_mut().insert("authorization", value);
        Ok(req)
    }
}
