//! A minimal HTTP/1.1 keep-alive client over a raw TCP stream, for end-to-end tests and the load
//! benchmark (no client library between the measurement and the socket).

#![allow(dead_code)]

use std::io;
use std::net::SocketAddr;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

pub struct Http {
    stream: BufReader<TcpStream>,
    host: String,
}

impl Http {
    pub async fn connect(addr: SocketAddr) -> io::Result<Http> {
        Ok(Http::from_stream(TcpStream::connect(addr).await?, addr))
    }

    /// A client over a connection made by the caller (for example from a chosen local address).
    pub fn from_stream(s: TcpStream, addr: SocketAddr) -> Http {
        let _ = s.set_nodelay(true);
        Http {
            stream: BufReader::new(s),
            host: addr.to_string(),
        }
    }

    /// One request; returns the status and the body.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        token: Option<&str>,
        body: Option<&str>,
    ) -> io::Result<(u16, String)> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: {}\r\n", self.host);
        if let Some(t) = token {
            req.push_str(&format!("Authorization: Bearer {t}\r\n"));
        }
        match body {
            Some(b) => req.push_str(&format!(
                "Content-Type: application/json\r\nContent-Length: {}\r\n\r\n{b}",
                b.len()
            )),
            None => req.push_str("Content-Length: 0\r\n\r\n"),
        }
        self.stream.get_mut().write_all(req.as_bytes()).await?;
        let mut line = String::new();
        self.stream.read_line(&mut line).await?;
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("bad status line {line:?}"),
                )
            })?;
        let mut length = 0usize;
        let mut chunked = false;
        loop {
            line.clear();
            if self.stream.read_line(&mut line).await? == 0 {
                return Err(io::ErrorKind::UnexpectedEof.into());
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let k = k.trim().to_ascii_lowercase();
                if k == "content-length" {
                    length = v.trim().parse().unwrap_or(0);
                } else if k == "transfer-encoding" && v.trim().eq_ignore_ascii_case("chunked") {
                    chunked = true;
                }
            }
        }
        let mut body = Vec::new();
        if chunked {
            loop {
                line.clear();
                self.stream.read_line(&mut line).await?;
                let n = usize::from_str_radix(line.trim(), 16).unwrap_or(0);
                let mut chunk = vec![0; n + 2];
                self.stream.read_exact(&mut chunk).await?;
                if n == 0 {
                    break;
                }
                body.extend_from_slice(&chunk[..n]);
            }
        } else {
            body.resize(length, 0);
            self.stream.read_exact(&mut body).await?;
        }
        Ok((status, String::from_utf8_lossy(&body).into_owned()))
    }
}

/// `POST /api/v1/login` on a fresh connection; the token.
pub async fn login(
    addr: SocketAddr,
    login: &str,
    password: &str,
    counter: Option<u32>,
) -> io::Result<String> {
    let mut h = Http::connect(addr).await?;
    let body =
        serde_json::json!({"login": login, "password": password, "counter": counter}).to_string();
    let (st, b) = h
        .request("POST", "/api/v1/login", None, Some(&body))
        .await?;
    if st != 200 {
        return Err(io::Error::other(format!("login {login}: {st} {b}")));
    }
    let v: serde_json::Value = serde_json::from_str(&b).map_err(io::Error::other)?;
    Ok(v["token"].as_str().unwrap_or_default().to_string())
}
