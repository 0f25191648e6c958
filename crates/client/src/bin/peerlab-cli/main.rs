//! peerlab-cli: the network coordinator's command line.
//!
//! `peerlab-cli [--endpoint URL] [--token T] [--output table|json|csv] <resource> <verb> [args]`

mod args;
mod content;
mod failure;
mod feed;
mod groups;
mod mask;
mod network;
mod output;
mod recommendations;
mod records;
mod report;

use std::io::{self, BufWriter, Stdout};
use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use peerlab_client::{Client, ListRequest};

use crate::args::{Cli, Command, Format, Paging};
use crate::failure::CliError;
use crate::output::{Record, Sink};

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(io::stderr)
        .init();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprint!("{}", error.render());
            error.exit_code()
        }
    }
}

async fn run(cli: Cli) -> Result<(), CliError> {
    let ctx = Ctx { client: connect(&cli)?, format: cli.output };
    match cli.command {
        Command::Municipalities(verb) => network::municipalities(&ctx, verb).await,
        Command::WorkingGroups(verb) => network::working_groups(&ctx, verb).await,
        Command::Memberships(verb) => groups::memberships(&ctx, verb).await,
        Command::Workshops(verb) => groups::workshops(&ctx, verb).await,
        Command::Challenges(verb) => content::challenges(&ctx, verb).await,
        Command::Initiatives(verb) => content::initiatives(&ctx, verb).await,
        Command::ProjectIdeas(verb) => content::project_ideas(&ctx, verb).await,
        Command::Recommendations(verb) => recommendations::run(&ctx, verb).await,
        Command::Events(verb) => feed::events(&ctx, verb).await,
        Command::Report(verb) => report::report(&ctx, verb).await,
        Command::Export(args) => feed::export(&ctx, args).await,
        Command::Watch(args) => feed::watch(&ctx, args).await,
    }
}

/// Connects on the first call, so usage errors never wait for the network.
fn connect(cli: &Cli) -> Result<Client, CliError> {
    let mut builder = Client::builder(cli.endpoint.clone()).timeout(Duration::from_secs(cli.timeout.max(1)));
    if let Some(token) = &cli.token {
        builder = builder.bearer(token.clone());
    }
    #[cfg(feature = "tls")]
    if let Some(path) = &cli.ca_cert {
        let pem = std::fs::read(path)
            .map_err(|e| CliError::Usage(format!("cannot read the CA certificate {}: {e}", path.display())))?;
        builder = builder.tls_ca_pem(pem);
    }
    Ok(builder.connect_lazy()?)
}

/// What every command needs: the client and the output format.
pub struct Ctx {
    /// The connection.
    pub client: Client,
    /// `--output`.
    pub format: Format,
}

impl Ctx {
    /// A sink to stdout in `--output` format.
    pub fn sink<R: Record>(&self) -> Sink<R, BufWriter<Stdout>> {
        Sink::new(self.format, BufWriter::new(io::stdout()))
    }

    /// Print one item.
    pub fn print<R: Record>(&self, item: &R) -> Result<(), CliError> {
        let mut sink = self.sink();
        sink.push(item)?;
        sink.finish()?;
        Ok(())
    }

    /// Print the page `request` asks for, or with `--all` every page; tell
    /// on stderr how to get the next page.
    pub async fn list<Q>(&self, mut request: Q, paging: &Paging) -> Result<(), CliError>
    where
        Q: ListRequest,
        Q::Item: Record,
    {
        if let Some(token) = &paging.page_token {
            request.set_page_token(token.clone());
        }
        let mut sink = self.sink::<Q::Item>();
        if paging.all {
            sink.drain(self.client.paginate(request)).await?;
            sink.finish()?;
            return Ok(());
        }
        let (items, next) = Q::fetch(self.client.clone(), request).await.map(Q::into_page)?;
        for item in &items {
            sink.push(item)?;
        }
        sink.finish()?;
        if !next.is_empty() {
            eprintln!("more results: add --page-token {next} (or --all)");
        }
        Ok(())
    }
}

/// `--page-size`, or 0 for the server's default.
pub fn page_size(paging: &Paging) -> i32 {
    paging.page_size.unwrap_or(0)
}
