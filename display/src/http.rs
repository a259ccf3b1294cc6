//! A small HTTP/1.1 client for the two plain requests the display makes to the hub
//! (`GET /api/v1/board`, `POST /api/v1/callbacks`), and the hub's address as given on the command line.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("bad hub address {0:?}: expected http://HOST:PORT")]
    BadUrl(String),
    #[error("cannot reach the hub at {addr}: {reason}")]
    Connect { addr: String, reason: String },
    #[error("the hub's answer was cut short or malformed: {0}")]
    Protocol(String),
    #[error("the hub answered {status}: {body}")]
    Status { status: u16, body: String },
    #[error("the hub's JSON did not match: {0}")]
    Json(String),
}

/// `http://HOST:PORT` of the hub.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HubUrl {
    pub host: String,
    pub port: u16,
}

impl HubUrl {
    pub fn parse(s: &str) -> Result<HubUrl, HttpError> {
        let bad = || HttpError::BadUrl(s.to_string());
        let rest = s.strip_prefix("http://").ok_or_else(bad)?;
        let rest = rest.trim_end_matches('/');
        if rest.contains('/') || rest.is_empty() {
            return Err(bad());
        }
        let (host, port) = match rest.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => {
                (h.to_string(), p.parse().map_err(|_| bad())?)
            }
            _ => (rest.to_string(), 80),
        };
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();
        if host.is_empty() {
            return Err(bad());
        }
        Ok(HubUrl { host, port })
    }

    /// `host:port` as it goes into a Host header.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }

    pub fn ws_url(&self, path: &str) -> String {
        format!("ws://{}{}", self.authority(), path)
    }

    /// Connects with a time limit, trying every address the name resolves to.
    pub fn connect(&self, timeout: Duration) -> Result<TcpStream, HttpError> {
        let addrs: Vec<SocketAddr> = (self.host.as_str(), self.port)
            .to_socket_addrs()
            .map_err(|e| self.connect_error(e))?
            .collect();
        let mut last = None;
        for a in addrs {
            match TcpStream::connect_timeout(&a, timeout) {
                Ok(s) => {
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
                Err(e) => last = Some(e),
            }
        }
        Err(match last {
            Some(e) => self.connect_error(e),
            None => HttpError::Connect {
                addr: self.authority(),
                reason: "the name resolves to no address".into(),
            },
        })
    }

    fn connect_error(&self, e: std::io::Error) -> HttpError {
        HttpError::Connect {
            addr: self.authority(),
            reason: e.to_string(),
        }
    }
}

/// A response: status and body.
#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

const TIMEOUT: Duration = Duration::from_secs(5);

pub fn request(
    hub: &HubUrl,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<&[u8]>,
) -> Result<Response, HttpError> {
    let mut stream = hub.connect(TIMEOUT)?;
    stream
        .set_read_timeout(Some(TIMEOUT))
        .and_then(|_| stream.set_write_timeout(Some(TIMEOUT)))
        .map_err(|e| HttpError::Protocol(e.to_string()))?;
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nAccept: application/json\r\nUser-Agent: hallq-board\r\n",
        hub.authority()
    );
    if let Some(t) = token {
        head.push_str(&format!("Authorization: Bearer {t}\r\n"));
    }
    if let Some(b) = body {
        head.push_str(&format!(
            "Content-Type: application/json\r\nContent-Length: {}\r\n",
            b.len()
        ));
    }
    head.push_str("\r\n");
    let io = |e: std::io::Error| HttpError::Protocol(e.to_string());
    stream.write_all(head.as_bytes()).map_err(io)?;
    if let Some(b) = body {
        stream.write_all(b).map_err(io)?;
    }
    stream.flush().map_err(io)?;
    read_response(BufReader::new(stream))
}

fn read_response(mut r: impl BufRead) -> Result<Response, HttpError> {
    let io = |e: std::io::Error| HttpError::Protocol(e.to_string());
    let mut line = String::new();
    r.read_line(&mut line).map_err(io)?;
    let status: u16 = line
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| HttpError::Protocol(format!("status line {:?}", line.trim())))?;
    let mut length = None;
    let mut chunked = false;
    loop {
        line.clear();
        if r.read_line(&mut line).map_err(io)? == 0 {
            return Err(HttpError::Protocol("headers cut short".into()));
        }
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            let v = v.trim();
            if k.eq_ignore_ascii_case("content-length") {
                length = v.parse::<usize>().ok();
            } else if k.eq_ignore_ascii_case("transfer-encoding")
                && v.to_ascii_lowercase().contains("chunked")
            {
                chunked = true;
            }
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            line.clear();
            r.read_line(&mut line).map_err(io)?;
            let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                .map_err(|_| HttpError::Protocol("bad chunk size".into()))?;
            if size == 0 {
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            r.read_exact(&mut body[start..]).map_err(io)?;
            line.clear();
            r.read_line(&mut line).map_err(io)?;
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        r.read_exact(&mut body).map_err(io)?;
    } else {
        r.read_to_end(&mut body).map_err(io)?;
    }
    Ok(Response { status, body })
}

/// GET a JSON body; any status but 200 is an error.
pub fn get_json<T: DeserializeOwned>(
    hub: &HubUrl,
    path: &str,
    token: Option<&str>,
) -> Result<T, HttpError> {
    let resp = request(hub, "GET", path, token, None)?;
    if resp.status != 200 {
        return Err(HttpError::Status {
            status: resp.status,
            body: String::from_utf8_lossy(&resp.body).into_owned(),
        });
    }
    serde_json::from_slice(&resp.body).map_err(|e| HttpError::Json(e.to_string()))
}

/// POST a JSON body; the caller reads the status.
pub fn post_json(
    hub: &HubUrl,
    path: &str,
    token: Option<&str>,
    body: &impl Serialize,
) -> Result<Response, HttpError> {
    let bytes = serde_json::to_vec(body).map_err(|e| HttpError::Json(e.to_string()))?;
    request(hub, "POST", path, token, Some(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hub_urls_parse() {
        assert_eq!(
            HubUrl::parse("http://127.0.0.1:8080").unwrap(),
            HubUrl {
                host: "127.0.0.1".into(),
                port: 8080
            }
        );
        assert_eq!(HubUrl::parse("http://hub/").unwrap().port, 80);
        let v6 = HubUrl::parse("http://[::1]:9000").unwrap();
        assert_eq!(v6.host, "::1");
        assert_eq!(v6.ws_url("/x"), "ws://[::1]:9000/x");
        assert!(HubUrl::parse("https://x").is_err());
        assert!(HubUrl::parse("http://x:99999").is_err());
        assert!(HubUrl::parse("http://x/api").is_err());
    }

    #[test]
    fn chunked_and_sized_bodies_are_read() {
        let sized = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}";
        let r = read_response(&sized[..]).unwrap();
        assert_eq!((r.status, r.body.as_slice()), (201, &b"{}"[..]));
        let chunked =
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        assert_eq!(read_response(&chunked[..]).unwrap().body, b"abcde");
        assert!(read_response(&b"HTTP/1.1 200 OK\r\n"[..]).is_err());
    }
}
