//! `bench`: the sync and 附件2 figures of the README's "Measured figures", printed as tables.
//! `cargo run --release -p pengwang-e2e --bin bench [-- sync|report|all]`.

use clap::{Parser, Subcommand};
use pengwang_e2e::bench::{self, report, runtime::SERVER_THREAD, sync};

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    what: Option<What>,
    /// Buildings on the phone in the one-street sync figures.
    #[arg(long, global = true, default_value_t = 1_000)]
    buildings: usize,
    /// Hazard items in the generated city of the 附件2 figure.
    #[arg(long, global = true, default_value_t = 1_000_000)]
    items: u64,
}

#[derive(Subcommand, Clone)]
enum What {
    /// Sync: bytes, round trips, server CPU; throughput with phones syncing at once.
    Sync,
    /// 附件2 over a generated city: time and peak memory.
    Report,
    /// Both (the default).
    All,
    /// The measured half of `report`, run in its own process (internal).
    #[command(hide = true)]
    ReportChild {
        #[arg(long)]
        db: std::path::PathBuf,
        /// json or csv.
        #[arg(long, default_value = "json")]
        format: String,
        #[arg(long, default_value_t = 3)]
        repeats: usize,
    },
}

fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt().with_env_filter("warn").init();
    let args = Args::parse();
    let what = args.what.unwrap_or(What::All);
    if let What::ReportChild {
        db,
        format,
        repeats,
    } = &what
    {
        return report::child(db, format, *repeats);
    }
    println!("# Pengwang bench\n\nMachine: {}.", bench::machine());
    println!("Server CPU = run time of the server's own runtime threads ({SERVER_THREAD}: workers and the blocking pool that runs SQLite); the phones run in the same process on other threads.\n");
    if matches!(what, What::Sync | What::All) {
        println!("## Sync\n");
        let plan = sync::Plan {
            buildings: args.buildings,
            ..sync::Plan::default()
        };
        sync::run(&plan)?;
    }
    if matches!(what, What::Report | What::All) {
        println!("## 附件2\n");
        let plan = report::Plan {
            items: args.items,
            ..report::Plan::default()
        };
        report::run(&plan)?;
    }
    Ok(())
}
