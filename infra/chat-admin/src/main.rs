//! `cargo run -p chat-admin -- <command>`: manage support agents in the table named by
//! `TABLE_NAME`, with the standard AWS credentials, region and endpoint settings (so the same
//! command works against the local stack, with `AWS_ENDPOINT_URL_DYNAMODB`, and a deployed table).
//!
//! Passwords never appear on the command line (it ends up in shell history): give one on
//! standard input with `--password-stdin`, or let the command generate and print one.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chat_core::sign_in::accounts::AdminAccounts;
use chat_core::store::items::AdminItem;
use chat_core::store::ChatStore;
use chat_core::SystemClock;
use clap::{Parser, Subcommand};
use std::io::BufRead;
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "chat-admin",
    about = "Manage support agents (admins) of the support chat"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create an admin.
    Create {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Read the password from standard input instead of generating one.
        #[arg(long)]
        password_stdin: bool,
    },
    /// List every admin.
    List,
    /// Lock an admin out: no sign-in, and their tokens stop working within a minute, for good.
    Deactivate {
        #[arg(long)]
        email: String,
    },
    /// Let a deactivated admin back in (they sign in again: older tokens stay retired).
    Activate {
        #[arg(long)]
        email: String,
    },
    /// Set a new password; tokens issued before it stop working.
    ResetPassword {
        #[arg(long)]
        email: String,
        #[arg(long)]
        password_stdin: bool,
    },
}

fn password(from_stdin: bool) -> Result<(String, bool), String> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("cannot read the password: {e}"))?;
        Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false))
    } else {
        let bytes = chat_core::ids::random_bytes::<18>();
        Ok((URL_SAFE_NO_PAD.encode(bytes), true))
    }
}

fn show(admin: &AdminItem) {
    let state = if admin.active {
        "active"
    } else {
        "deactivated"
    };
    println!(
        "{}  {:<32}  {:<24}  {state}",
        admin.admin_id, admin.email, admin.name
    );
}

async fn run(cli: Cli) -> Result<(), String> {
    let table =
        std::env::var("TABLE_NAME").map_err(|_| "set TABLE_NAME to the chat table's name")?;
    let sdk = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let store = ChatStore::new(aws_sdk_dynamodb::Client::new(&sdk), table);
    let accounts = AdminAccounts::new(&store, &SystemClock);
    match cli.command {
        Command::Create {
            email,
            name,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin)?;
            let admin = accounts
                .create(&email, &name, &password)
                .await
                .map_err(|e| e.to_string())?;
            show(&admin);
            if generated {
                println!("password: {password}");
            }
        }
        Command::List => {
            for admin in accounts.list().await.map_err(|e| e.to_string())? {
                show(&admin);
            }
        }
        Command::Deactivate { email } => show(
            &accounts
                .set_active(&email, false)
                .await
                .map_err(|e| e.to_string())?,
        ),
        Command::Activate { email } => show(
            &accounts
                .set_active(&email, true)
                .await
                .map_err(|e| e.to_string())?,
        ),
        Command::ResetPassword {
            email,
            password_stdin,
        } => {
            let (password, generated) = password(password_stdin)?;
            show(
                &accounts
                    .reset_password(&email, &password)
                    .await
                    .map_err(|e| e.to_string())?,
            );
            if generated {
                println!("password: {password}");
            }
        }
    }
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Cli::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("chat-admin: {message}");
            ExitCode::FAILURE
        }
    }
}
