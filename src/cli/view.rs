//! `srl view PATH...`: serve the read-only viewer on 127.0.0.1 and print its URL.

use std::path::PathBuf;

use anyhow::{Context, Result};

use super::Outcome;
use crate::view::{ViewOptions, Viewer};

#[derive(clap::Args)]
pub struct Args {
    /// Trajectory files (any format `srl import` reads), `srl agent` output folders, `srl eval`
    /// run folders, `srl train` run folders, or folders holding several
    #[arg(required = true)]
    paths: Vec<PathBuf>,
    /// Port on 127.0.0.1 (0 picks a free one)
    #[arg(long, default_value_t = 8477)]
    port: u16,
}

pub fn run(args: Args) -> Result<Outcome> {
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    runtime.block_on(async {
        let viewer = Viewer::bind(&ViewOptions { paths: args.paths, port: args.port }).await?;
        println!("{}", viewer.summary());
        println!("serving {} (read-only; Ctrl-C stops)", viewer.url()?);
        viewer.serve().await
    })?;
    Ok(Outcome::Clean)
}
