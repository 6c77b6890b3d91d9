//! A TCP proxy between a simulated phone and the server, standing in for the radio: online,
//! offline (connections refused mid-stream), or dropping responses (the request reaches the
//! server, the answer never reaches the phone).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU8, Ordering};
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
    upstream: Arc<Mutex<SocketAddr>>,
    task: tokio::task::JoinHandle<()>,
}

impl Proxy {
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Proxy> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let link = Arc::new(AtomicU8::new(Link::Online as u8));
        let upstream = Arc::new(Mutex::new(upstream));
        let (l, u) = (Arc::clone(&link), Arc::clone(&upstream));
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let l = Arc::clone(&l);
                let to = *u.lock().expect("upstream lock");
                tokio::spawn(async move {
                    let _ = relay(client, to, l).await;
                });
            }
        });
        Ok(Proxy {
            addr,
            link,
            upstream,
            task,
        })
    }

    pub fn set(&self, link: Link) {
        self.link.store(link as u8, Ordering::SeqCst);
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

async fn relay(
    mut client: TcpStream,
    upstream: SocketAddr,
    link: Arc<AtomicU8>,
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
