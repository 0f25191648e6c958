//! Server reflection (so grpcurl works with no proto files) and gRPC-Web
//! with CORS for browser portals.

use peerlab_client::pb;
use peerlab_testkit::Backend;
use prost::Message;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_stream::StreamExt;
use tonic_reflection::pb::v1::ServerReflectionRequest;
use tonic_reflection::pb::v1::server_reflection_client::ServerReflectionClient;
use tonic_reflection::pb::v1::server_reflection_request::MessageRequest;
use tonic_reflection::pb::v1::server_reflection_response::MessageResponse;

use crate::support::{spawn_app, spawn_app_with};

async fn reflection_lists_every_service(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut client = ServerReflectionClient::new(app.anonymous().await.channel());
    let request = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::ListServices(String::new())),
    };
    let mut stream =
        client.server_reflection_info(tokio_stream::iter([request])).await.expect("reflection").into_inner();
    let response = stream.next().await.expect("one response").expect("ok");
    let Some(MessageResponse::ListServicesResponse(list)) = response.message_response else {
        panic!("unexpected {response:?}")
    };
    let names: Vec<String> = list.service.into_iter().map(|s| s.name).collect();
    for service in peerlab_service::SERVICES.iter().chain(&["grpc.health.v1.Health"]) {
        assert!(names.iter().any(|n| n == service), "{service} missing from {names:?}");
    }
    // The rich error types are resolvable too, so clients can decode details.
    let symbol = ServerReflectionRequest {
        host: String::new(),
        message_request: Some(MessageRequest::FileContainingSymbol("google.rpc.BadRequest".into())),
    };
    let mut stream =
        client.server_reflection_info(tokio_stream::iter([symbol])).await.expect("reflection").into_inner();
    let response = stream.next().await.expect("one response").expect("ok");
    assert!(matches!(response.message_response, Some(MessageResponse::FileDescriptorResponse(_))), "{response:?}");
}

/// One HTTP/1.1 exchange on a fresh connection; returns (head, body).
async fn http1(addr: std::net::SocketAddr, request: Vec<u8>) -> (String, Vec<u8>) {
    let mut tcp = tokio::net::TcpStream::connect(addr).await.expect("connect");
    tcp.write_all(&request).await.expect("write");
    let mut raw = Vec::new();
    tcp.read_to_end(&mut raw).await.expect("read");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("head") + 4;
    let head = String::from_utf8_lossy(&raw[..split]).to_ascii_lowercase();
    let mut body = raw[split..].to_vec();
    if head.contains("transfer-encoding: chunked") {
        body = dechunk(&body);
    }
    (head, body)
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(eol) = data.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&data[..eol]).trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        out.extend_from_slice(&data[eol + 2..eol + 2 + size]);
        data = &data[eol + 2 + size + 2..];
    }
    out
}

async fn grpc_web_unary_call_with_cors_preflight(backend: Backend) {
    let origin = "https://portal.example";
    let app = spawn_app_with(backend, |c| c.server.cors_allowed_origins = vec![origin.into()]).await;
    let token = app.coordinator_token();

    let preflight = format!(
        "OPTIONS /peerlab.v1.ChallengeService/ListChallenges HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n\
         Access-Control-Request-Method: POST\r\nAccess-Control-Request-Headers: authorization,content-type,x-grpc-web\r\nConnection: close\r\n\r\n",
        addr = app.addr
    );
    let (head, _) = http1(app.addr, preflight.into_bytes()).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains(&format!("access-control-allow-origin: {origin}")), "{head}");
    assert!(head.contains("authorization"), "{head}");

    // A foreign origin gets no CORS grant.
    let foreign = format!(
        "OPTIONS /peerlab.v1.ChallengeService/ListChallenges HTTP/1.1\r\nHost: {addr}\r\nOrigin: https://evil.example\r\n\
         Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n",
        addr = app.addr
    );
    let (head, _) = http1(app.addr, foreign.into_bytes()).await;
    assert!(!head.contains("access-control-allow-origin"), "{head}");

    let message = pb::ListChallengesRequest { parent: "municipalities/-".into(), ..Default::default() }.encode_to_vec();
    let mut frame = vec![0u8];
    frame.extend_from_slice(&(message.len() as u32).to_be_bytes());
    frame.extend_from_slice(&message);
    let mut call = format!(
        "POST /peerlab.v1.ChallengeService/ListChallenges HTTP/1.1\r\nHost: {addr}\r\nOrigin: {origin}\r\n\
         Content-Type: application/grpc-web+proto\r\nX-Grpc-Web: 1\r\nAuthorization: Bearer {token}\r\n\
         Content-Length: {len}\r\nConnection: close\r\n\r\n",
        addr = app.addr,
        len = frame.len()
    )
    .into_bytes();
    call.extend_from_slice(&frame);
    let (head, body) = http1(app.addr, call).await;
    assert!(head.starts_with("http/1.1 200"), "{head}");
    assert!(head.contains("content-type: application/grpc-web"), "{head}");
    assert!(head.contains(&format!("access-control-allow-origin: {origin}")), "{head}");
    // A data frame with the (empty) list, then a trailer frame with grpc-status 0.
    assert_eq!(body[0], 0, "data frame first");
    let len = u32::from_be_bytes([body[1], body[2], body[3], body[4]]) as usize;
    let list = pb::ListChallengesResponse::decode(&body[5..5 + len]).expect("decode");
    assert!(list.challenges.is_empty());
    let trailer = &body[5 + len..];
    assert_eq!(trailer[0], 0x80, "trailer frame");
    assert!(String::from_utf8_lossy(&trailer[5..]).contains("grpc-status:0"), "{:?}", String::from_utf8_lossy(trailer));
}

peerlab_testkit::on_both_backends!(reflection_lists_every_service, grpc_web_unary_call_with_cors_preflight);
