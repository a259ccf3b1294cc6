//! `hallq-central`: the operator's central service (halls ship their history to it; head office
//! reads every hall on its pages) and its administration. This file only parses the command line.

use clap::{Parser, Subcommand};
use hallq_central::cli::{self, DbArg, ServeArgs};

#[derive(Debug, Parser)]
#[command(
    name = "hallq-central",
    version,
    about = "The operator's central service for many halls (营业厅总部), on PostgreSQL"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Serve the halls' shipping API and head office's pages.
    Serve(ServeArgs),
    /// Register, group, revoke and list halls.
    #[command(subcommand)]
    Hall(HallCmd),
    /// Head office's accounts for the web pages.
    #[command(subcommand)]
    Operator(OperatorCmd),
}

#[derive(Debug, Subcommand)]
enum HallCmd {
    /// Register a hall and print its credential (shown once; only its hash is kept).
    Add {
        name: String,
        /// The group whose published texts the hall takes (besides those for every hall).
        #[arg(long)]
        group: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// Put a hall in a group, or with no group given in none.
    Group {
        name: String,
        group: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// Refuse a hall's credential from now on (its history stays).
    Revoke {
        name: String,
        #[command(flatten)]
        db: DbArg,
    },
    /// Whether a hall ships its callbacks' phone numbers to central (off unless turned on here).
    /// Turning on needs --why, kept in the audit log; turning off deletes the numbers central holds.
    #[command(allow_missing_positional = true)]
    Phones {
        /// The hall (or --all: every live hall now; halls added later start off).
        #[arg(required_unless_present = "all", conflicts_with = "all")]
        name: Option<String>,
        switch: Switch,
        #[arg(long)]
        all: bool,
        /// Why central should keep the numbers (required to turn them on).
        #[arg(long)]
        why: Option<String>,
        #[command(flatten)]
        db: DbArg,
    },
    /// The halls, live and revoked.
    List {
        #[command(flatten)]
        db: DbArg,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum Switch {
    On,
    Off,
}

#[derive(Debug, Subcommand)]
enum OperatorCmd {
    /// Create an account (or set its password); the password is read from standard input.
    Add {
        name: String,
        #[command(flatten)]
        db: DbArg,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    hallq_shared::logs::init();
    match Cli::parse().command {
        Cmd::Serve(args) => cli::serve(args).await,
        Cmd::Hall(HallCmd::Add { name, group, db }) => {
            cli::hall_add(&db, &name, group.as_deref()).await
        }
        Cmd::Hall(HallCmd::Group { name, group, db }) => {
            cli::hall_group(&db, &name, group.as_deref()).await
        }
        Cmd::Hall(HallCmd::Revoke { name, db }) => cli::hall_revoke(&db, &name).await,
        Cmd::Hall(HallCmd::Phones {
            name,
            switch,
            all: _,
            why,
            db,
        }) => {
            cli::hall_phones(
                &db,
                name.as_deref(),
                matches!(switch, Switch::On),
                why.as_deref(),
            )
            .await
        }
        Cmd::Hall(HallCmd::List { db }) => cli::hall_list(&db).await,
        Cmd::Operator(OperatorCmd::Add { name, db }) => cli::operator_add(&db, &name).await,
    }
}
