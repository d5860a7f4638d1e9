//! A real DNS server for the domain tests: a small authoritative responder on a loopback UDP
//! port, answering TXT queries from a map the test controls (names it does not hold are
//! NXDOMAIN, other types NODATA), or SERVFAIL for everything once told to fail. Wire format of
//! RFC 1035 §4, written out here so nothing stands in for the resolver under test.

use std::{
    collections::HashMap,
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use switchyard::config::DomainConfig;
use switchyard_core::DomainSettings;
use switchyard_domain::Hostname;
use tokio::net::UdpSocket;

const TXT: u16 = 16;
const NXDOMAIN: u8 = 3;
const SERVFAIL: u8 = 2;

#[derive(Default)]
struct Zone {
    /// Lower-case name → TXT records, each a list of character-strings.
    records: HashMap<String, Vec<Vec<String>>>,
    failing: bool,
    queries: Vec<String>,
}

pub(crate) struct TestDns {
    pub(crate) addr: SocketAddr,
    zone: Arc<Mutex<Zone>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TestDns {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// The domain settings of a test app: platform domain `enclii.test`, TXT lookups at `dns`.
pub(crate) fn settings(dns: Option<&TestDns>) -> DomainSettings {
    DomainConfig {
        platform_domain: Some(Hostname::parse("enclii.test", "test").unwrap()),
        dns_resolver: dns.map(|d| d.addr),
    }
    .settings(switchyard_k8s::RenderSettings::default().cert_issuer)
}

impl TestDns {
    pub(crate) async fn start() -> Self {
        let socket = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let addr = socket.local_addr().unwrap();
        let zone = Arc::new(Mutex::new(Zone::default()));
        let task = tokio::spawn(serve(socket, zone.clone()));
        Self { addr, zone, task }
    }

    /// Replaces the TXT records at `name`; each record is one or more character-strings.
    pub(crate) fn set(&self, name: &str, records: &[&[&str]]) {
        let records = records
            .iter()
            .map(|r| r.iter().map(|s| (*s).to_owned()).collect())
            .collect();
        self.zone
            .lock()
            .unwrap()
            .records
            .insert(name.to_ascii_lowercase(), records);
    }

    /// From now on every query is answered SERVFAIL.
    pub(crate) fn fail(&self) {
        self.zone.lock().unwrap().failing = true;
    }

    /// The names asked for so far, in order.
    pub(crate) fn queries(&self) -> Vec<String> {
        self.zone.lock().unwrap().queries.clone()
    }
}

async fn serve(socket: UdpSocket, zone: Arc<Mutex<Zone>>) {
    let mut buf = [0u8; 1500];
    loop {
        let Ok((len, peer)) = socket.recv_from(&mut buf).await else {
            continue;
        };
        if let Some(answer) = respond(&buf[..len], &zone) {
            let _ = socket.send_to(&answer, peer).await;
        }
    }
}

/// The answer to one query; `None` for something that is not a one-question query.
fn respond(query: &[u8], zone: &Mutex<Zone>) -> Option<Vec<u8>> {
    if query.len() < 12 || u16::from_be_bytes([query[4], query[5]]) != 1 {
        return None;
    }
    let (name, end) = read_name(query, 12)?;
    let qtype = u16::from_be_bytes([*query.get(end)?, *query.get(end + 1)?]);
    let question = query.get(12..end + 4)?;
    let mut zone = zone.lock().unwrap();
    zone.queries.push(name.clone());
    let (rcode, records) = if zone.failing {
        (SERVFAIL, Vec::new())
    } else {
        match zone.records.get(&name.to_ascii_lowercase()) {
            None => (NXDOMAIN, Vec::new()),
            Some(_) if qtype != TXT => (0, Vec::new()),
            Some(records) => (0, records.clone()),
        }
    };
    let mut out = Vec::with_capacity(512);
    out.extend_from_slice(&query[..2]); // id
    out.push(0x84 | (query[2] & 0x01)); // QR, AA, RD as asked
    out.push(rcode);
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&u16::try_from(records.len()).ok()?.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]); // no authority, no additional
    out.extend_from_slice(question);
    for strings in records {
        let rdata: Vec<u8> = strings
            .iter()
            .flat_map(|s| {
                let bytes = s.as_bytes();
                std::iter::once(u8::try_from(bytes.len()).unwrap()).chain(bytes.iter().copied())
            })
            .collect();
        out.extend_from_slice(&[0xC0, 12]); // the question's name
        out.extend_from_slice(&TXT.to_be_bytes());
        out.extend_from_slice(&1u16.to_be_bytes()); // IN
        out.extend_from_slice(&0u32.to_be_bytes()); // TTL 0: never cached
        out.extend_from_slice(&u16::try_from(rdata.len()).ok()?.to_be_bytes());
        out.extend_from_slice(&rdata);
    }
    Some(out)
}

/// The dotted name starting at `at` (no compression in queries) and the offset after it.
fn read_name(message: &[u8], mut at: usize) -> Option<(String, usize)> {
    let mut labels = Vec::new();
    loop {
        let len = usize::from(*message.get(at)?);
        at += 1;
        if len == 0 {
            return Some((labels.join("."), at));
        }
        labels.push(String::from_utf8_lossy(message.get(at..at + len)?).into_owned());
        at += len;
    }
}
