//! `demo`: the README's first command. Starts pengwang-server on an embedded SQLite file, fills it
//! with a realistic survey made by simulated inspectors' phones that really sync over HTTP, and
//! keeps serving until Ctrl-C.

use anyhow::Context;
use clap::Parser;
use pengwang_e2e::simulation::{self, Plan};
use pengwang_server::{AppState, Config};
use pengwang_shared::time::SystemClock;
use std::sync::Arc;

#[derive(Parser)]
struct Args {
    /// Where the demo database goes (replaced on every run).
    #[arg(long, default_value = "demo-data/pengwang.sqlite3")]
    database: std::path::PathBuf,
    #[arg(long, default_value = "127.0.0.1:8080")]
    listen: std::net::SocketAddr,
    /// Buildings per street.
    #[arg(long, default_value_t = 20)]
    buildings: usize,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter("warn").init();
    let args = Args::parse();
    if let Some(dir) = args.database.parent() {
        std::fs::create_dir_all(dir)?;
    }
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", args.database.display()));
    }
    let config = Config {
        database: args.database.clone(),
        listen: args.listen,
        ..Config::default()
    };
    let state = AppState::open(config, Arc::new(SystemClock))?;
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let addr = listener.local_addr()?;
    let server = tokio::spawn(pengwang_server::run(listener, state.clone(), async {
        let _ = tokio::signal::ctrl_c().await;
    }));
    println!(
        "pengwang-server listening on http://{addr} (database {})",
        args.database.display()
    );
    println!(
        "console: http://{addr}/console — sign in as `city`, password `{}` (the other accounts are listed at the end)",
        simulation::DEMO_PASSWORD
    );
    println!("simulating inspectors' phones (real devices, real HTTP sync; about five minutes)…");
    let summary = simulation::run(
        &state,
        addr,
        &Plan {
            buildings_per_street: args.buildings,
        },
    )
    .await?;
    println!("{summary}");
    server.await??;
    println!("stopped; everything is in {}", args.database.display());
    Ok(())
}
