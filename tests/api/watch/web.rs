//! WatchEvents over gRPC-Web on HTTP/1.1, as a browser portal reads it: the
//! backlog, a live event (encoded once by the server's hub for every stream)
//! and a heartbeat each arrive as an ordinary `WatchEventsResponse` frame.

use pb::watch_events_response::Message;
use peerlab_client::pb;
use peerlab_testkit::Backend;
use prost::Message as _;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::{WAIT, listed, post};
use crate::support::spawn_app_with;
use crate::working_groups::network;

/// The complete chunks of an HTTP/1.1 chunked body received so far.
fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let Ok(size) = usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16) else { break };
        if size == 0 || data.len() < eol + 2 + size + 2 {
            break;
        }
        body.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
    body
}

/// The complete gRPC-Web data frames of the response received so far, decoded.
fn messages(raw: &[u8]) -> Vec<Message> {
    let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") else { return Vec::new() };
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: application/grpc-web"), "{head}");
    let body = if head.contains("transfer-encoding: chunked") {
        dechunk(&raw[split + 4..])
    } else {
        raw[split + 4..].to_vec()
    };
    let mut frames = body.as_slice();
    let mut out = Vec::new();
    while frames.len() >= 5 {
        let len = u32::from_be_bytes([frames[1], frames[2], frames[3], frames[4]]) as usize;
        if frames.len() < 5 + len {
            break;
        }
        assert_eq!(frames[0], 0, "a data frame, not trailers, while the stream is open");
        let response = pb::WatchEventsResponse::decode(&frames[5..5 + len]).expect("a WatchEventsResponse");
        out.push(response.message.expect("a message"));
        frames = &frames[5 + len..];
    }
    out
}

/// Read from `tcp` until `done` holds for the messages received so far.
async fn read_until(tcp: &mut TcpStream, raw: &mut Vec<u8>, done: impl Fn(&[Message]) -> bool) -> Vec<Message> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        let received = messages(raw);
        if done(&received) {
            return received;
        }
        let n = tokio::time::timeout(WAIT, tcp.read(&mut buf)).await.expect("a frame in time").expect("read");
        assert!(n > 0, "the server closed the stream");
        raw.extend_from_slice(&buf[..n]);
    }
}

fn events(messages: &[Message]) -> Vec<pb::Event> {
    messages.iter().filter_map(|m| if let Message::Event(e) = m { Some(e.clone()) } else { None }).collect()
}

async fn watch_events_over_grpc_web(backend: Backend) {
    let app = spawn_app_with(backend, |c| c.server.feed_heartbeat_ms = 200).await;
    let net = network(&app).await;
    let coordinator = app.client(&app.coordinator_token()).await;
    let backlog = listed(&coordinator).await;

    let message = pb::WatchEventsRequest::default().encode_to_vec();
    let mut call = format!(
        "POST /peerlab.v1.FeedService/WatchEvents HTTP/1.1\r\nHost: {addr}\r\n\
         Content-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {len}\r\n\r\n",
        addr = app.addr,
        token = app.coordinator_token(),
        len = message.len() + 5
    )
    .into_bytes();
    call.push(0);
    call.extend_from_slice(&(message.len() as u32).to_be_bytes());
    call.extend_from_slice(&message);
    let mut tcp = TcpStream::connect(app.addr).await.expect("connect");
    tcp.write_all(&call).await.expect("write");
    let mut raw = Vec::new();

    let received = read_until(&mut tcp, &mut raw, |m| events(m).len() >= backlog.len()).await;
    assert_eq!(events(&received), backlog, "the backlog is the log");

    let ba = app.client(&app.staff_token("BA", net.mostar)).await;
    let challenge = post(&ba, &net.group, net.mostar, "Low digital literacy", false).await;
    let received = read_until(&mut tcp, &mut raw, |m| events(m).len() > backlog.len()).await;
    let live = events(&received).pop().expect("the live event");
    assert_eq!((live.kind.as_str(), live.resource.as_str()), ("challenge.created", challenge.name.as_str()));
    assert_eq!(listed(&coordinator).await.last(), Some(&live), "live events are the log's");

    let beat_after = |m: &[Message]| m.iter().any(|m| matches!(m, Message::Heartbeat(h) if h.last_id == live.id));
    let received = read_until(&mut tcp, &mut raw, beat_after).await;
    assert_eq!(events(&received).len(), backlog.len() + 1, "nothing sent twice");
}

peerlab_testkit::on_both_backends!(watch_events_over_grpc_web);
