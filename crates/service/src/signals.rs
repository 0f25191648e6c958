//! Process signals: SIGTERM / Ctrl-C stop the server; SIGHUP re-reads keys.

use crate::auth::Verifier;

/// Wait for SIGTERM or Ctrl-C, re-reading the issuers' keys on every SIGHUP.
pub async fn wait(verifier: Verifier) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut hup)) = (signal(SignalKind::terminate()), signal(SignalKind::hangup())) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        loop {
            tokio::select! {
                _ = term.recv() => return,
                _ = tokio::signal::ctrl_c() => return,
                _ = hup.recv() => match verifier.trust_store().reload() {
                    Ok(()) => tracing::info!("SIGHUP: issuer keys reloaded"),
                    Err(e) => tracing::error!(error = %e, "SIGHUP: keeping the old keys"),
                },
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = verifier;
        let _ = tokio::signal::ctrl_c().await;
    }
}
