//! Generates the v1 code from `proto/` with protox (pure Rust, no protoc).

use std::path::PathBuf;

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
    Ok(())
}
