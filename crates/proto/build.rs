//! Generates the v1 code from `proto/` with protox (pure Rust, no protoc).

use std::path::PathBuf;

use tonic_build::manual::{Method, Service};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR")?).join("../../proto");
    let v1 = root.join("peerlab/v1");
    println!("cargo:rerun-if-changed={}", root.display());

    let mut files: Vec<PathBuf> = std::fs::read_dir(&v1)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "proto"))
        .collect();
    files.sort();

    let fds = protox::compile(&files, [&root])?;
    let out = PathBuf::from(std::env::var("OUT_DIR")?);
    std::fs::write(out.join("peerlab_v1_descriptor.bin"), prost::Message::encode_to_vec(&fds))?;

    tonic_prost_build::configure().build_server(cfg!(feature = "server")).build_client(true).compile_fds(fds)?;
    if cfg!(feature = "server") {
        fanout_server();
    }
    Ok(())
}

/// A second server for `peerlab.v1.FeedService`, the same routes and wire
/// format as the generated one, whose WatchEvents stream yields messages
/// encoded beforehand (`crate::feed::Encoded`), so the live feed encodes
/// each event once for all its subscribers instead of once per subscriber.
/// tonic-prost-build can only set one codec for every service; its
/// `manual` builder is tonic's own way to give one method another.
fn fanout_server() {
    let list = Method::builder()
        .name("list_events")
        .route_name("ListEvents")
        .input_type("crate::v1::ListEventsRequest")
        .output_type("crate::v1::ListEventsResponse")
        .codec_path("tonic_prost::ProstCodec")
        .build();
    let watch = Method::builder()
        .name("watch_events")
        .route_name("WatchEvents")
        .input_type("crate::v1::WatchEventsRequest")
        .output_type("crate::feed::EncodedWatchEventsResponse")
        .codec_path("crate::feed::EncodedCodec")
        .server_streaming()
        .build();
    let service = Service::builder()
        .name("FeedService")
        .package("peerlab.v1")
        .comment("The event log, with WatchEvents sending messages encoded once for every stream.")
        .method(list)
        .method(watch)
        .build();
    tonic_build::manual::Builder::new().build_client(false).compile(&[service]);
}
