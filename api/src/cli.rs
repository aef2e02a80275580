//! The command line: `scps serve` (the default), `scps migrate`, `scps schema`, `scps bootstrap`,
//! `scps service create|list` and `scps demo`. Every setting is also a flag and an `SCPS_*`
//! variable.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};

use crate::app::{self, Application};
use crate::config::{Config, Settings};
use crate::{demo, graphql, telemetry};

#[derive(Parser, Debug)]
#[command(
    name = "scps",
    version,
    about = "scps: the working life of a schools and community psychology service, as a GraphQL API."
)]
struct Cli {
    #[command(flatten)]
    settings: Settings,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Run the service (the default).
    Serve,
    /// Apply the database migrations (or undo or list them).
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Print the GraphQL schema (SDL), as committed in schema.graphql.
    Schema,
    /// Create the first service and its administrator on an empty database.
    Bootstrap {
        #[command(flatten)]
        service: NewServiceArgs,
    },
    /// Add a service to the deployment, or list them (for whoever runs the deployment).
    Service {
        #[command(subcommand)]
        action: ServiceAction,
    },
    /// Serve a freshly seeded, fictional demo, and print a token for each role.
    Demo,
    /// Destroy children's records past their service's retention date (a dry run unless
    /// `--apply`), with a disposal log that keeps no personal data.
    Retention {
        /// Destroy what is due (without it, only report).
        #[arg(long)]
        apply: bool,
        /// The day to judge by (default today), YYYY-MM-DD.
        #[arg(long)]
        on: Option<chrono::NaiveDate>,
    },
}

#[derive(clap::Args, Debug)]
struct NewServiceArgs {
    /// The service's name, as its schools know it.
    #[arg(long, alias = "service-name")]
    name: String,
    #[arg(long, default_value = "Europe/London")]
    time_zone: String,
    #[arg(long)]
    admin_email: String,
    #[arg(long)]
    admin_name: String,
    /// The administrator's password; one is generated and printed when it is not given (an
    /// existing account keeps its own).
    #[arg(long, env = "SCPS_BOOTSTRAP_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
}

#[derive(Subcommand, Debug)]
enum ServiceAction {
    /// Create a service with its first administrator.
    Create {
        #[command(flatten)]
        service: NewServiceArgs,
    },
    /// List the services of this deployment.
    List,
}

#[derive(Subcommand, Debug)]
enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// Undo the last migrations.
    Down {
        #[arg(long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let command = cli.command.unwrap_or(Command::Serve);
    if let Command::Schema = command {
        print!("{}", graphql::sdl());
        return ExitCode::SUCCESS;
    }
    let config = match cli.settings.validate() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("scps: {e}");
            return ExitCode::from(2);
        }
    };
    telemetry::init(&config);
    let explicit_database = cli.settings.database_url.is_some() || cli.settings.database_url_file.is_some();
    let result = actix_web::rt::System::new().block_on(run(command, config, explicit_database));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "scps stopped with an error");
            eprintln!("scps: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config, explicit_database: bool) -> anyhow::Result<()> {
    match command {
        Command::Serve => serve(config).await,
        Command::Migrate { action } => migrate(config, action.unwrap_or(MigrateAction::Up)).await,
        Command::Schema => Ok(()),
        Command::Bootstrap { service } => create_service(&config, service, true).await,
        Command::Service {
            action: ServiceAction::Create { service },
        } => create_service(&config, service, false).await,
        Command::Service {
            action: ServiceAction::List,
        } => list_services(&config).await,
        Command::Demo => demo::run(config, explicit_database).await,
        Command::Retention { apply, on } => retention(&config, apply, on).await,
    }
}

async fn retention(config: &Config, apply: bool, on: Option<chrono::NaiveDate>) -> anyhow::Result<()> {
    app::migrate(config).await?;
    let db = domain::db::connect(config.database.url.expose(), 2, None).await?;
    let today = on.unwrap_or_else(|| chrono::Utc::now().date_naive());
    let request_id = format!("retention-{}", uuid::Uuid::now_v7());
    let due = domain::consultations::retention::run(&db, today, apply, &request_id)
        .await
        .map_err(|e| anyhow::anyhow!(describe(e)))?;
    let verb = if apply {
        "destroyed"
    } else {
        "due (dry run: nothing destroyed; add --apply)"
    };
    if due.is_empty() {
        println!("Nothing is due for destruction on {today}.");
    }
    for d in &due {
        println!(
            "{}  {}: {} pupil records, {} consultations {verb}",
            graphql::ids::encode("Service", d.service_id).0,
            graphql::ids::encode("School", d.school_id).0,
            d.pupils,
            d.consultations,
        );
    }
    Ok(())
}

/// Creates a service and its administrator (`first`: on an empty database only), printing the
/// administrator's generated password when none was given.
async fn create_service(config: &Config, args: NewServiceArgs, first: bool) -> anyhow::Result<()> {
    app::migrate(config).await?;
    let db = domain::db::connect(config.database.url.expose(), 2, None).await?;
    let generated = args.admin_password.is_none();
    let password = args
        .admin_password
        .unwrap_or_else(|| domain::secrets::new_token("").chars().take(20).collect());
    let created = domain::tenancy::services::create(
        &db,
        domain::tenancy::services::NewService {
            service_name: args.name,
            time_zone: Some(args.time_zone),
            admin_email: args.admin_email,
            admin_name: args.admin_name,
            admin_password: password.clone(),
        },
        first,
        if first { "bootstrap" } else { "service-create" },
    )
    .await
    .map_err(|e| anyhow::anyhow!(describe(e)))?;
    println!(
        "Created the service \"{}\" ({}) with its administrator {}.",
        created.service.name,
        graphql::ids::encode("Service", created.service.id).0,
        created.admin.email
    );
    if !created.new_account {
        println!("That account existed already: it keeps its own password and gains the role.");
    } else if generated {
        println!("The administrator's password is: {password}");
        println!("Sign in with the signIn mutation; keep the password somewhere safe.");
    }
    Ok(())
}

/// Prints the services of the deployment, one a line.
async fn list_services(config: &Config) -> anyhow::Result<()> {
    app::migrate(config).await?;
    let db = domain::db::connect(config.database.url.expose(), 2, None).await?;
    let services = domain::tenancy::services::list_all(&db)
        .await
        .map_err(|e| anyhow::anyhow!(describe(e)))?;
    if services.is_empty() {
        println!("No services yet: create the first with `scps bootstrap`.");
    }
    for s in services {
        println!(
            "{}  {}  ({}, {} schools, {} administrators)",
            graphql::ids::encode("Service", s.service.id).0,
            s.service.name,
            s.service.time_zone,
            s.schools,
            s.administrators
        );
    }
    Ok(())
}

/// A domain error as a sentence for the terminal.
pub fn describe(e: domain::DomainError) -> String {
    match e {
        domain::DomainError::Invalid(problems) => problems
            .iter()
            .map(|p| {
                if p.field.is_empty() {
                    p.message.clone()
                } else {
                    format!("{}: {}", p.field.join("."), p.message)
                }
            })
            .collect::<Vec<_>>()
            .join("; "),
        other => other.to_string(),
    }
}

async fn serve(config: Config) -> anyhow::Result<()> {
    if config.auth.generated_secret {
        tracing::warn!("no SCPS_JWT_SECRET: tokens are signed with a key made at start and stop working on restart");
    }
    tracing::info!(bind = %config.bind, database = %config.database, redis = config.redis_url.is_some(), environment = ?config.environment, "starting scps");
    let app = Application::build(config).await?;
    tracing::info!(port = app.port(), "listening");
    app.run().await?;
    Ok(())
}

async fn migrate(config: Config, action: MigrateAction) -> anyhow::Result<()> {
    match action {
        MigrateAction::Up => {
            app::migrate(&config).await?;
            println!("The database is up to date.");
        }
        MigrateAction::Down { steps } => {
            let db = domain::db::connect(config.database.url.expose(), 1, None).await?;
            Migrator::down(&db, Some(steps)).await?;
            println!("Undid {steps} migration(s).");
        }
        MigrateAction::Status => {
            let db = domain::db::connect(config.database.url.expose(), 1, None).await?;
            for m in Migrator::get_migration_with_status(&db).await? {
                println!("{:<40} {:?}", m.name(), m.status());
            }
        }
    }
    Ok(())
}
