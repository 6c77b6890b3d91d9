//! A TCP proxy between a simulated phone and the server, standing in for the radio: online,
//! offline (connections refused mid-stream), or dropping responses (the request reaches the
//! server, the answer never reaches the phone). It can also let a set number of uploads (HTTP
//! `PUT` requests) through and go offline at the next one, to cut a photo upload part-way.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicI64, AtomicU8, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub enum Link {
    Online = 0,
    Offline = 1,
    DropResponses = 2,
}

pub struct Proxy {
    pub addr: SocketAddr,
    link: Arc<AtomicU8>,
    /// PUT requests still let through before the link goes offline; negative: no limit.
    puts_left: Arc<AtomicI64>,
    upstream: Arc<Mutex<SocketAddr>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let link = Arc::new(AtomicU8::new(Link::Online as u8));
        let puts_left = Arc::new(AtomicI64::new(-1));
        let upstream = Arc::new(Mutex::new(upstream));
        let (l, p, u) = (
            Arc::clone(&link),
            Arc::clone(&puts_left),
            Arc::clone(&upstream),
        );
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (l, p) = (Arc::clone(&l), Arc::clone(&p));
                let to = *u.lock().expect("upstream lock");
                tokio::spawn(async move {
                    let _ = relay(client, to, l, p).await;
                });
            }
        });
        Ok(Proxy {
            addr,
            link,
            puts_left,
            upstream,
            task,
        })
    }

    /// Sets the link; this also lifts any [`Proxy::cut_after_puts`] limit.
    pub fn set(&self, link: Link) {
        self.puts_left.store(-1, Ordering::SeqCst);
        self.link.store(link as u8, Ordering::SeqCst);
    }

    /// Lets `n` more HTTP `PUT` requests (photo uploads) through, then goes offline: the
    /// connection carrying the next `PUT` is closed before its request reaches the server.
    pub fn cut_after_puts(&self, n: u32) {
        self.puts_left.store(i64::from(n), Ordering::SeqCst);
    }

    /// Points the proxy at a restarted server.
    pub fn set_upstream(&self, to: SocketAddr) {
        *self.upstream.lock().expect("upstream lock") = to;
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

fn mode(link: &AtomicU8) -> Link {
    match link.load(Ordering::SeqCst) {
        0 => Link::Online,
        1 => Link::Offline,
        _ => Link::DropResponses,
    }
}

/// Whether a chunk from the phone starting a `PUT` request may pass under the PUT budget; goes
/// offline when it may not. A request starts at the beginning of a read: HTTP/1.1 clients send
/// the next request on a connection only after the previous answer.
fn put_allowed(chunk: &[u8], link: &AtomicU8, puts_left: &AtomicI64) -> bool {
    if !chunk.starts_with(b"PUT ") {
        return true;
    }
    let left = puts_left.fetch_sub(1, Ordering::SeqCst);
    if left < 0 {
        puts_left.store(-1, Ordering::SeqCst); // no limit
        return true;
    }
    if left == 0 {
        puts_left.store(-1, Ordering::SeqCst);
        link.store(Link::Offline as u8, Ordering::SeqCst);
        return false;
    }
    true
}

async fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    link: Arc<AtomicU8>,
    puts_left: Arc<AtomicI64>,
) -> std::io::Result<()> {
    if mode(&link) == Link::Offline {
        return Ok(()); // dropped: the phone sees the connection close at once
    }
    let mut server = TcpStream::connect(upstream).await?;
    let (mut cr, mut cw) = client.split();
    let (mut sr, mut sw) = server.split();
    let mut up = [0u8; 16 * 1024];
    let mut down = [0u8; 16 * 1024];
    loop {
        tokio::select! {
            n = cr.read(&mut up) => {
                let n = n?;
                if n == 0 || mode(&link) == Link::Offline { return Ok(()); }
                if !put_allowed(&up[..n], &link, &puts_left) { return Ok(()); }
                sw.write_all(&up[..n]).await?;
            }
            n = sr.read(&mut down) => {
                let n = n?;
                if n == 0 { return Ok(()); }
                match mode(&link) {
                    Link::Online => cw.write_all(&down[..n]).await?,
                    Link::Offline => return Ok(()),
                    Link::DropResponses => {
                        // Let the server finish answering, then hang up on the phone.
                        while let Ok(Ok(n)) = tokio::time::timeout(Duration::from_millis(200), sr.read(&mut down)).await {
                            if n == 0 { break; }
                        }
                        return Ok(());
                    }
                }
            }
        }
    }
}
