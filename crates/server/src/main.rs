//! `switchyard`: the control plane of Enclii. See `switchyard --help`.

use std::{path::PathBuf, process::ExitCode};

use clap::{Parser, Subcommand};
use switchyard::{
    cli,
    config::{self, Config},
    serve, telemetry,
};
use switchyard_db::MigrateOptions;

#[derive(Parser)]
#[command(name = "switchyard", version, about = "Enclii control plane")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the HTTP API (verifies the schema, never migrates).
    Serve,
    /// Run the outbox relay and the job consumers (probes and metrics on ENCLII_WORKER_PORT).
    Worker,
    /// Change or inspect the database schema.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Print the OpenAPI document (YAML).
    Openapi,
    /// Validate configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Exit 0 when the API on ENCLII_PORT answers /health/live (for container health checks).
    Healthcheck,
    /// Manage the keys of env var values.
    Secrets {
        #[command(subcommand)]
        action: SecretsAction,
    },
    /// Everything in one process: private PostgreSQL and Redis, migrations, the API, the worker.
    Dev {
        /// Where the private servers keep their data between runs.
        #[arg(long, default_value_os_t = cli::dev::default_data_dir())]
        data_dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum MigrateAction {
    /// Apply pending migrations.
    Up,
    /// Print every migration with when it was applied and whether its checksum matches.
    Status,
    /// Fail unless every migration is applied unchanged (the database may be ahead).
    Verify,
}

#[derive(Subcommand)]
enum SecretsAction {
    /// Re-seal every env var value under a new data key wrapped by ENCLII_ENVVAR_ENCRYPTION_KEY,
    /// then delete the data keys nothing uses (safe to interrupt and run again).
    RotateKey {
        /// Values re-sealed per transaction.
        #[arg(long, default_value_t = 500)]
        batch_size: i64,
        /// Finish an interrupted rotation under its data key instead of starting another.
        #[arg(long)]
        resume: bool,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Validate and print the configuration with secrets redacted.
    Check {
        /// Fail when an ENCLII_* variable is set that switchyard does not read.
        #[arg(long)]
        deny_unknown: bool,
    },
    /// Print every ENCLII_* variable switchyard reads, one per line (for manifest checks).
    Known,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Command::Openapi = cli.command {
        return print(
            switchyard_api::openapi()
                .to_yaml()
                .map_err(anyhow::Error::from),
        );
    }
    if let Command::Config {
        action: ConfigAction::Known,
    } = cli.command
    {
        return print(Ok(config::KNOWN_VARS
            .iter()
            .map(|name| format!("{name}\n"))
            .collect()));
    }
    let vars = config::process_env();
    let config = match Config::from_vars(&vars) {
        Ok(config) => config,
        Err(errors) => {
            eprint!("{errors}");
            return ExitCode::FAILURE;
        }
    };
    if let Command::Config {
        action: ConfigAction::Check { deny_unknown },
    } = cli.command
    {
        let (report, unknown) = cli::config_check::report(&config, &vars);
        print!("{report}");
        return if deny_unknown && !unknown.is_empty() {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        };
    }
    if let Command::Healthcheck = cli.command {
        return match cli::healthcheck::check(config.http.port) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("switchyard: unhealthy: {e}");
                ExitCode::FAILURE
            }
        };
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("switchyard: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let _telemetry = match runtime.block_on(async { telemetry::init(&config.log) }) {
        Ok(guard) => guard,
        Err(e) => {
            eprintln!("switchyard: cannot set up logging: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        let mut signals = serve::Signals::install()?;
        run(cli.command, config, &mut signals).await
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("switchyard: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config, signals: &mut serve::Signals) -> anyhow::Result<()> {
    let database_url = || {
        config
            .database
            .as_ref()
            .map(|d| d.url.clone())
            .ok_or_else(|| anyhow::anyhow!("ENCLII_DATABASE_URL (or ENCLII_DB_URL) is not set"))
    };
    match command {
        Command::Serve => serve::run(config, signals).await,
        Command::Worker => switchyard::worker::run(config, signals).await,
        Command::Dev { data_dir } => cli::dev::run(config, &data_dir, signals).await,
        Command::Migrate { action } => {
            let url = database_url()?;
            let migrator = &switchyard_db::MIGRATOR;
            let out = match action {
                MigrateAction::Up => {
                    let options = MigrateOptions {
                        lock_wait: config.migration_lock_wait,
                        ..MigrateOptions::default()
                    };
                    cli::migrate::up(&url, migrator, &options).await?
                }
                MigrateAction::Status => cli::migrate::status(&url, migrator).await?,
                MigrateAction::Verify => cli::migrate::verify(&url, migrator).await?,
            };
            print!("{out}");
            Ok(())
        }
        Command::Secrets {
            action: SecretsAction::RotateKey { batch_size, resume },
        } => {
            print!(
                "{}",
                cli::secrets::rotate_key(&config, batch_size, resume).await?
            );
            Ok(())
        }
        Command::Openapi | Command::Config { .. } | Command::Healthcheck => Ok(()),
    }
}

fn print(result: anyhow::Result<String>) -> ExitCode {
    match result {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("switchyard: {e:#}");
            ExitCode::FAILURE
        }
    }
}
