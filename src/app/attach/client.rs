//! HTTP/1.1 over the service's Unix socket (hyper's client connection): the
//! hello, JSON requests, and the upgrade an attached console rides on.

use std::path::{Path, PathBuf};

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use serde::Serialize;
use serde::de::DeserializeOwned;
use tokio::net::UnixStream;

use crate::app::wire::protocol::{ErrorBody, Hello, PROTOCOL, PROTOCOL_HEADER};
use crate::app::wire::run_request::Duplicate;

/// Why a request to the service failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// Nothing listens there (no socket, or a dead service's).
    #[error("no drover service answers on {}: {reason}", path.display())]
    NotRunning { path: PathBuf, reason: String },
    #[error("drover service on {}: {reason}", path.display())]
    Failed { path: PathBuf, reason: String },
    /// The service answered with an error of its own (its words).
    #[error("drover service: {message}")]
    Refused { status: StatusCode, message: String },
    /// `POST /v1/runs` under an idempotency key that names an earlier run.
    #[error("drover service: {}", .0.error)]
    Duplicate(Duplicate),
}

/// One server-sent event: its `event:` name and its `data:` lines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SseMessage {
    pub event: String,
    pub data: String,
}

/// The messages of a `text/event-stream` answer, as they arrive.
pub struct EventStream {
    body: hyper::body::Incoming,
    buf: Vec<u8>,
    event: String,
    data: Vec<String>,
}

impl EventStream {
    /// The next message; `None` when the service ended the stream.
    pub async fn next(&mut self) -> Result<Option<SseMessage>, String> {
        loop {
            while let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.buf.drain(..=pos).collect();
                let line = String::from_utf8_lossy(&line[..pos]);
                let line = line.strip_suffix('\r').unwrap_or(&line);
                if line.is_empty() {
                    if self.data.is_empty() && self.event.is_empty() {
                        continue;
                    }
                    return Ok(Some(SseMessage {
                        event: std::mem::take(&mut self.event),
                        data: std::mem::take(&mut self.data).join("\n"),
                    }));
                }
                if line.starts_with(':') {
                    continue; // a comment: the keep-alive
                }
                let (field, value) = line.split_once(':').unwrap_or((line, ""));
                let value = value.strip_prefix(' ').unwrap_or(value);
                match field {
                    "event" => self.event = value.to_string(),
                    "data" => self.data.push(value.to_string()),
                    _ => {}
                }
            }
            match self.body.frame().await {
                None => return Ok(None),
                Some(Err(e)) => return Err(format!("the event stream broke: {e}")),
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                    }
                }
            }
        }
    }
}

/// A connection to the service at `path`.
pub struct Client {
    path: PathBuf,
}

impl Client {
    pub fn new(path: &Path) -> Client {
        Client {
            path: path.to_path_buf(),
        }
    }

    fn failed(&self, reason: impl ToString) -> ClientError {
        ClientError::Failed {
            path: self.path.clone(),
            reason: reason.to_string(),
        }
    }

    /// A fresh HTTP/1.1 connection, its driver spawned (with upgrades).
    async fn connect(
        &self,
    ) -> Result<hyper::client::conn::http1::SendRequest<Full<Bytes>>, ClientError> {
        let stream =
            UnixStream::connect(&self.path)
                .await
                .map_err(|e| ClientError::NotRunning {
                    path: self.path.clone(),
                    reason: e.to_string(),
                })?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| self.failed(e))?;
        tokio::spawn(async move {
            if let Err(e) = connection.with_upgrades().await {
                tracing::debug!("service connection: {e}");
            }
        });
        Ok(sender)
    }

    fn request(method: Method, uri: &str, body: Vec<u8>) -> Request<Full<Bytes>> {
        let mut builder = Request::builder()
            .method(method)
            .uri(uri)
            .header(hyper::header::HOST, "drover")
            .header(PROTOCOL_HEADER, PROTOCOL.to_string());
        if !body.is_empty() {
            builder = builder.header(hyper::header::CONTENT_TYPE, "application/json");
        }
        builder
            .body(Full::new(Bytes::from(body)))
            .expect("a valid request")
    }

    /// Sends `method uri` with `body` as JSON on a new connection.
    async fn send(
        &self,
        method: Method,
        uri: &str,
        body: Option<&impl Serialize>,
    ) -> Result<hyper::Response<hyper::body::Incoming>, ClientError> {
        let body = match body {
            Some(b) => serde_json::to_vec(b).map_err(|e| self.failed(e))?,
            None => Vec::new(),
        };
        let mut sender = self.connect().await?;
        sender
            .send_request(Self::request(method, uri, body))
            .await
            .map_err(|e| self.failed(e))
    }

    /// The service's refusal in its own words (`{"error"}`), read off an
    /// answer of `status`; a duplicate idempotency key as such.
    async fn refused(status: StatusCode, body: hyper::body::Incoming) -> ClientError {
        let bytes = body
            .collect()
            .await
            .map(|b| b.to_bytes())
            .unwrap_or_default();
        if status == StatusCode::CONFLICT
            && let Ok(d) = serde_json::from_slice::<Duplicate>(&bytes)
        {
            return ClientError::Duplicate(d);
        }
        let message = serde_json::from_slice::<ErrorBody>(&bytes)
            .map(|b| b.error)
            .unwrap_or_else(|_| format!("{status}: {}", String::from_utf8_lossy(&bytes)));
        ClientError::Refused { status, message }
    }

    /// `method uri` with `body` as JSON; the answer decoded from JSON.
    pub async fn json<T: DeserializeOwned>(
        &self,
        method: Method,
        uri: &str,
        body: Option<&impl Serialize>,
    ) -> Result<T, ClientError> {
        let response = self.send(method, uri, body).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(Self::refused(status, response.into_body()).await);
        }
        let bytes = response
            .into_body()
            .collect()
            .await
            .map_err(|e| self.failed(e))?
            .to_bytes();
        serde_json::from_slice(&bytes).map_err(|e| self.failed(format!("unreadable answer: {e}")))
    }

    /// `method uri` with `body` as JSON, answered with server-sent events.
    pub async fn events(
        &self,
        method: Method,
        uri: &str,
        body: Option<&impl Serialize>,
    ) -> Result<EventStream, ClientError> {
        let response = self.send(method, uri, body).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(Self::refused(status, response.into_body()).await);
        }
        Ok(EventStream {
            body: response.into_body(),
            buf: Vec::new(),
            event: String::new(),
            data: Vec::new(),
        })
    }

    /// Who answers, checked to speak this protocol.
    pub async fn hello(&self) -> Result<Hello, ClientError> {
        let hello: Hello = self.json(Method::GET, "/v1/hello", None::<&()>).await?;
        if hello.protocol != PROTOCOL {
            return Err(self.failed(format!(
                "the service (drover {}) speaks protocol {}, this drover {PROTOCOL}",
                hello.version, hello.protocol
            )));
        }
        Ok(hello)
    }

    /// `uri` upgraded to `protocol`: the raw connection after the `101`.
    pub async fn upgrade(
        &self,
        uri: &str,
        protocol: &str,
    ) -> Result<TokioIo<hyper::upgrade::Upgraded>, ClientError> {
        let mut sender = self.connect().await?;
        let mut request = Self::request(Method::GET, uri, Vec::new());
        let headers = request.headers_mut();
        headers.insert(
            hyper::header::CONNECTION,
            "upgrade".parse().expect("a header value"),
        );
        headers.insert(
            hyper::header::UPGRADE,
            protocol.parse().map_err(|e| self.failed(e))?,
        );
        let response = sender
            .send_request(request)
            .await
            .map_err(|e| self.failed(e))?;
        let status = response.status();
        if status != StatusCode::SWITCHING_PROTOCOLS {
            return Err(Self::refused(status, response.into_body()).await);
        }
        let upgraded = hyper::upgrade::on(response)
            .await
            .map_err(|e| self.failed(e))?;
        Ok(TokioIo::new(upgraded))
    }
}
