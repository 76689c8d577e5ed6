//! A forwarding proxy for tests: HTTP `CONNECT` and SOCKS5 (no auth) on one loopback port,
//! counting the tunnels it opened, to prove traffic went through it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A running proxy.
#[derive(Debug)]
pub struct Proxy {
    /// `127.0.0.1:PORT`.
    pub addr: String,
    tunnels: Arc<AtomicUsize>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    /// Starts the proxy on the current runtime.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind proxy");
        let addr = listener.local_addr().expect("addr").to_string();
        let tunnels = Arc::new(AtomicUsize::new(0));
        let count = tunnels.clone();
        let task = tokio::spawn(async move {
            while let Ok((conn, _)) = listener.accept().await {
                let count = count.clone();
                tokio::spawn(async move {
                    if let Ok(upstream) = handshake(conn, &count).await {
                        let (mut a, mut b) = upstream;
                        let _ = tokio::io::copy_bidirectional(&mut a, &mut b).await;
                    }
                });
            }
        });
        Self { addr, tunnels, task }
    }

    /// Tunnels opened so far.
    pub fn tunnels(&self) -> usize {
        self.tunnels.load(Ordering::SeqCst)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn handshake(mut conn: TcpStream, count: &AtomicUsize) -> std::io::Result<(TcpStream, TcpStream)> {
    let mut first = [0u8; 1];
    conn.read_exact(&mut first).await?;
    let target = if first[0] == 5 {
        // SOCKS5: methods, then CONNECT with an IPv4 address or a domain name.
        let mut n = [0u8; 1];
        conn.read_exact(&mut n).await?;
        let mut methods = vec![0u8; usize::from(n[0])];
        conn.read_exact(&mut methods).await?;
        conn.write_all(&[5, 0]).await?;
        let mut head = [0u8; 4];
        conn.read_exact(&mut head).await?;
        let host = match head[3] {
            1 => {
                let mut ip = [0u8; 4];
                conn.read_exact(&mut ip).await?;
                std::net::Ipv4Addr::from(ip).to_string()
            }
            3 => {
                let mut len = [0u8; 1];
                conn.read_exact(&mut len).await?;
                let mut name = vec![0u8; usize::from(len[0])];
                conn.read_exact(&mut name).await?;
                String::from_utf8_lossy(&name).into_owned()
            }
            _ => return Err(std::io::Error::other("unsupported SOCKS address type")),
        };
        let mut port = [0u8; 2];
        conn.read_exact(&mut port).await?;
        conn.write_all(&[5, 0, 0, 1, 0, 0, 0, 0, 0, 0]).await?;
        format!("{host}:{}", u16::from_be_bytes(port))
    } else {
        // HTTP: `CONNECT host:port HTTP/1.1`, headers, blank line.
        let mut head = vec![first[0]];
        while !head.ends_with(b"\r\n\r\n") {
            let mut b = [0u8; 1];
            conn.read_exact(&mut b).await?;
            head.push(b[0]);
        }
        let text = String::from_utf8_lossy(&head).into_owned();
        let target = text
            .strip_prefix("CONNECT ")
            .and_then(|r| r.split_whitespace().next())
            .ok_or_else(|| std::io::Error::other("not a CONNECT request"))?
            .to_string();
        conn.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await?;
        target
    };
    let upstream = TcpStream::connect(target).await?;
    count.fetch_add(1, Ordering::SeqCst);
    Ok((conn, upstream))
}
