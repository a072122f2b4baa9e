//! `specsim collect`: receive OTLP/HTTP traces on loopback and append them to a file.

use std::io::Write;
use std::path::PathBuf;

use super::{failure, CliError};
use crate::live::collector::{self, DEFAULT_MAX_BODY};

#[derive(Debug, clap::Args)]
pub struct CollectArgs {
    /// Port; 0 picks a free one. The endpoint URL is printed on stdout's first line.
    #[arg(long, default_value_t = 4318)]
    port: u16,
    /// The OTLP JSON file to append to (created if missing; one batch per line).
    #[arg(long)]
    out: PathBuf,
    /// Address to bind (loopback by default; anything else exposes the receiver).
    #[arg(long, default_value = "127.0.0.1")]
    bind: String,
    /// Largest request body accepted, MiB, before and after gzip decompression (413 above).
    #[arg(long, default_value_t = (DEFAULT_MAX_BODY >> 20) as u32,
          value_parser = clap::value_parser!(u32).range(1..=1024))]
    max_body_mib: u32,
    /// Worker threads.
    #[arg(long, default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    workers: u32,
}

pub fn run(a: CollectArgs) -> Result<(), CliError> {
    let bind = format!("{}:{}", a.bind, a.port);
    let max = (a.max_body_mib as usize) << 20;
    let (running, _, dropped) = collector::serve(&a.out, &bind, a.workers as usize, max)
        .map_err(|e| failure(e.to_string()))?;
    if dropped > 0 {
        eprintln!(
            "warning: {}: removed an unfinished last line ({dropped} bytes) left by an interrupted write; it was never acknowledged",
            a.out.display()
        );
    }
    let addr = running.addr();
    let mut out = std::io::stdout().lock();
    writeln!(out, "http://{addr}")
        .and_then(|_| out.flush())
        .map_err(|e| failure(format!("cannot write to stdout: {e}")))?;
    drop(out);
    eprintln!(
        "receiving OTLP/HTTP traces on http://{addr}/v1/traces, appending to {} (Ctrl-C to stop)\n\
         point an agent at it with OTEL_EXPORTER_OTLP_ENDPOINT=http://{addr}",
        a.out.display()
    );
    running.wait();
    Ok(())
}
