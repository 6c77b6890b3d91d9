//! Command-line interface: `serve`, and the operator commands that create accounts, issue
//! enrollment codes and revoke devices on the server machine itself (they need no HTTP login).

use crate::accounts::{self, NewAccount};
use crate::audit::{self, Action, NewAudit};
use crate::{campaign, devices, projection, AppState, Config};
use anyhow::{bail, Context};
use clap::{Parser, Subcommand, ValueEnum};
use pengwang_shared::id::{AccountId, DeviceId};
use pengwang_shared::region::{CommunityCode, StreetCode, UnitCode};
use pengwang_shared::role::{Role, Scope};
use pengwang_shared::settings::PeriodMode;
use pengwang_shared::time::{Clock, SystemClock};
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "pengwang-server",
    version,
    about = "Pengwang (棚网) sync server"
)]
pub struct Args {
    /// TOML config file; PENGWANG_* environment variables override it.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API until Ctrl-C or SIGTERM.
    Serve,
    /// Manage accounts (`account create`, `accounts list`).
    #[command(subcommand, visible_alias = "accounts")]
    Account(AccountCommand),
    /// Issue a one-time enrollment code for an account and print it.
    EnrollCode {
        #[arg(long)]
        account: String,
        #[arg(long, default_value_t = devices::DEFAULT_CODE_DAYS)]
        days: u32,
    },
    /// Manage devices.
    #[command(subcommand)]
    Device(DeviceCommand),
    /// Drop the projections (ledger, report and conflict tables) and rebuild them from the
    /// stored documents. Safe while the server runs (one transaction).
    RebuildProjections,
    /// Show or change the campaign settings (the city's; sent to every phone with each sync).
    #[command(subcommand)]
    Campaign(CampaignCommand),
}

#[derive(Debug, Subcommand)]
enum CampaignCommand {
    /// Print the settings as JSON.
    Show,
    /// Change settings; the projections are rebuilt, since the lifecycle rules read them.
    Set {
        /// `report_day` (26th to the report day, the default) or `calendar_month`.
        #[arg(long)]
        period_mode: Option<String>,
        /// Day of the month 附件2 is due (1–28).
        #[arg(long)]
        report_day: Option<u32>,
        /// Persuasion attempts before a refusal may be recorded.
        #[arg(long)]
        persuasion_attempts: Option<u32>,
    },
}

#[derive(Debug, Subcommand)]
enum AccountCommand {
    /// Create an account and print its id.
    Create {
        #[arg(long)]
        name: String,
        /// city, unit_lead, street_checker, community_inspector, property_staff, enforcement, fire_rescue
        #[arg(long)]
        role: String,
        #[arg(long, value_enum)]
        scope_kind: ScopeKind,
        /// Unit, street or community code (not for `city`; the community for `estates`).
        #[arg(long)]
        scope: Option<String>,
        /// Estate (小区) names for `--scope-kind estates`, comma-separated.
        #[arg(long, value_delimiter = ',')]
        estates: Vec<String>,
        /// Read a console password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Console login name (needs --password-stdin): signs in at /console.
        #[arg(long)]
        login: Option<String>,
    },
    /// List accounts.
    List,
}

#[derive(Debug, Subcommand)]
enum DeviceCommand {
    /// Revoke a device: its token stops working at once.
    Revoke { id: String },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ScopeKind {
    City,
    Unit,
    Street,
    Community,
    Estates,
}

pub fn run(args: Args) -> anyhow::Result<()> {
    let config = Config::load(args.config.as_deref())?;
    install_tracing(&config.log)?;
    let clock: Arc<dyn Clock> = Arc::new(SystemClock);
    let state = AppState::open(config, clock).context("cannot open the database")?;
    match args.command {
        Command::Serve => serve(state),
        Command::Account(AccountCommand::Create {
            name,
            role,
            scope_kind,
            scope,
            estates,
            password_stdin,
            login,
        }) => {
            if login.is_some() && !password_stdin {
                bail!("--login needs a console password: add --password-stdin and type it");
            }
            let scope = build_scope(scope_kind, scope, estates)?;
            let password = if password_stdin {
                Some(read_password()?)
            } else {
                None
            };
            let new = NewAccount {
                name,
                role: Role::parse(&role)?,
                scope,
                password,
            };
            let now = state.now();
            let info = state.db.with_writer(|c| {
                if let Some(login) = &login {
                    // Checked before the account is made, so a taken login leaves nothing behind.
                    accounts::check_login_free(c, login)?;
                }
                let info = accounts::create_account(c, new, now)?;
                if let Some(login) = &login {
                    accounts::set_login(c, info.id, login)?;
                }
                Ok::<_, accounts::AccountError>(info)
            })?;
            println!("{}", info.id);
            Ok(())
        }
        Command::Account(AccountCommand::List) => list_accounts(&state),
        Command::EnrollCode { account, days } => {
            let (account, now) = (AccountId::parse(&account)?, state.now());
            let code = state
                .db
                .with_writer(|c| devices::issue_code(c, account, days, now))?;
            println!("{code}");
            Ok(())
        }
        Command::Device(DeviceCommand::Revoke { id }) => {
            let (id, now) = (DeviceId::parse(&id)?, state.now());
            let newly = state
                .db
                .with_writer(|c| devices::revoke(c, id, None, now))?;
            println!("{}", if newly { "revoked" } else { "already revoked" });
            Ok(())
        }
        Command::RebuildProjections => rebuild_projections(&state),
        Command::Campaign(CampaignCommand::Show) => {
            let settings = state.db.with_writer(|c| campaign::load(c, state.now()))?;
            println!("{}", serde_json::to_string_pretty(&settings)?);
            Ok(())
        }
        Command::Campaign(CampaignCommand::Set {
            period_mode,
            report_day,
            persuasion_attempts,
        }) => set_campaign(&state, period_mode, report_day, persuasion_attempts),
    }
}

fn set_campaign(
    state: &AppState,
    mode: Option<String>,
    day: Option<u32>,
    attempts: Option<u32>,
) -> anyhow::Result<()> {
    let now = state.now();
    let mut settings = state.db.with_writer(|c| campaign::load(c, now))?;
    if let Some(mode) = mode {
        settings.period_mode = match mode.as_str() {
            "report_day" => PeriodMode::ReportDay,
            "calendar_month" => PeriodMode::CalendarMonth,
            other => bail!("--period-mode {other:?}: expected report_day or calendar_month"),
        };
    }
    if let Some(day) = day {
        if !(1..=28).contains(&day) {
            bail!("--report-day {day}: expected a day from 1 to 28 (every month has it)");
        }
        settings.report_day = day;
    }
    if let Some(n) = attempts {
        settings.persuasion_attempts = n;
    }
    let detail = serde_json::to_string(&settings)?;
    state.db.with_writer(|c| -> anyhow::Result<()> {
        campaign::store(c, &settings)?;
        let row = NewAudit {
            at: now,
            actor: None,
            action: Action::CampaignChange,
            target: "campaign",
            detail: &detail,
        };
        audit::record(c, &row)?;
        Ok(())
    })?;
    println!("{}", serde_json::to_string_pretty(&settings)?);
    rebuild_projections(state)
}

fn rebuild_projections(state: &AppState) -> anyhow::Result<()> {
    let now = state.now();
    let count = state.db.with_writer(|c| -> anyhow::Result<usize> {
        let settings = campaign::load(c, now)?;
        Ok(projection::rebuild_all(c, &settings, now.0)?)
    })?;
    println!("rebuilt the projections of {count} documents");
    Ok(())
}

fn serve(state: AppState) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let addr = state.config.listen;
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        crate::run(listener, state, shutdown_signal()).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Ctrl-C, or SIGTERM (what service managers and containers send).
async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => drop(s.recv().await),
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
    tracing::info!("shutting down: finishing in-flight requests");
}

fn build_scope(
    kind: ScopeKind,
    code: Option<String>,
    estates: Vec<String>,
) -> anyhow::Result<Scope> {
    if kind != ScopeKind::Estates && !estates.is_empty() {
        bail!("--estates only goes with --scope-kind estates");
    }
    if kind == ScopeKind::City && code.is_some() {
        bail!("--scope-kind city takes no --scope CODE (the city scope covers every unit)");
    }
    let code = || {
        code.clone().with_context(|| {
            format!(
                "--scope CODE is required for --scope-kind {}",
                format!("{kind:?}").to_lowercase()
            )
        })
    };
    Ok(match kind {
        ScopeKind::City => Scope::City,
        ScopeKind::Unit => Scope::Unit {
            unit: UnitCode::parse(&code()?)?,
        },
        ScopeKind::Street => Scope::Street {
            street: StreetCode::parse(&code()?)?,
        },
        ScopeKind::Community => Scope::Community {
            community: CommunityCode::parse(&code()?)?,
        },
        ScopeKind::Estates => {
            if estates.is_empty() {
                bail!("--estates NAME[,NAME…] is required for --scope-kind estates");
            }
            Scope::Estates {
                community: CommunityCode::parse(&code()?)?,
                estates,
            }
        }
    })
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("cannot read the password from stdin")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

fn list_accounts(state: &AppState) -> anyhow::Result<()> {
    let rows = state.db.with_writer(|c| accounts::list_accounts(c))?;
    println!("id\trole\tscope\tdevices\tdisabled\tname");
    for r in rows {
        let i = &r.info;
        println!(
            "{}\t{}\t{}\t{}\t{}\t{}",
            i.id,
            i.role,
            i.scope.describe(),
            r.active_devices,
            r.disabled,
            i.name
        );
    }
    Ok(())
}

fn install_tracing(filter: &str) -> anyhow::Result<()> {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .with_context(|| format!("invalid log filter {filter:?}"))?;
    // Colour only on a terminal, so log files stay plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(ansi)
        .init();
    Ok(())
}
