//! PLACEHOLDER until the report branch lands.
use clap::Args;

/// Options of `stripflow report`.
#[derive(Args, Debug)]
pub struct ReportArgs {
    /// A small version that runs in a minute or two.
    #[arg(long)]
    pub quick: bool,
}

/// Runs the report.
pub fn run(_args: &ReportArgs) -> anyhow::Result<()> {
    anyhow::bail!("report: not yet")
}
