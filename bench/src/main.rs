//! `scps-bench generate` and `scps-bench run`: see the README's Benchmarks section.

use clap::{Parser, Subcommand};

use scps_bench::generate::{self, Scale};
use scps_bench::runner::{self, RunArgs};

#[derive(Parser)]
#[command(name = "scps-bench", about = "Benchmark data and load for scps")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Generates a scale's data into an empty (or emptied) database.
    Generate {
        #[arg(long, value_enum)]
        scale: Scale,
        #[arg(long)]
        database_url: String,
        #[arg(long, default_value_t = 18)]
        seed: u64,
        /// The day the history is generated for (default: today); with the seed, it fixes the data.
        #[arg(long)]
        today: Option<chrono::NaiveDate>,
    },
    /// Starts scps on generated data and drives it.
    Run(RunArgs),
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::Generate {
            scale,
            database_url,
            seed,
            today,
        } => {
            let today = today.unwrap_or_else(|| {
                chrono::Utc::now()
                    .with_timezone(&chrono_tz::Europe::London)
                    .date_naive()
            });
            let started = std::time::Instant::now();
            let db = generate::prepare(&database_url, true).await?;
            let written = generate::generate(&db, scale.shape(), seed, today).await?;
            db.close().await?;
            println!(
                "generated scale {scale:?} (seed {seed}, for {today}) in {:.1} s:\n{written}",
                started.elapsed().as_secs_f64()
            );
            Ok(())
        }
        Command::Run(args) => {
            if runner::run(args).await? {
                Ok(())
            } else {
                anyhow::bail!("the benchmark's checks failed")
            }
        }
    }
}
