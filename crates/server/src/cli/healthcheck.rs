//! `switchyard healthcheck`: asks the local API's `/health/live`, for container HEALTHCHECKs in
//! images without curl. Exits 0 on a 200.

use std::{
    io::{Read as _, Write as _},
    net::{SocketAddr, TcpStream},
    time::Duration,
};

/// `Ok(())` when `GET /health/live` on `port` answers 200 within 3 s.
pub fn check(port: u16) -> Result<(), String> {
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let timeout = Duration::from_secs(3);
    let mut stream =
        TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("{addr}: {e}"))?;
    stream
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    stream
        .write_all(b"GET /health/live HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| format!("{addr}: {e}"))?;
    let mut head = [0u8; 12];
    stream
        .read_exact(&mut head)
        .map_err(|e| format!("{addr}: {e}"))?;
    let status = String::from_utf8_lossy(&head[9..12]).into_owned();
    if status == "200" {
        Ok(())
    } else {
        Err(format!("{addr}/health/live answered {status}"))
    }
}
