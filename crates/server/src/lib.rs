//! The `switchyard` binary's library: configuration, telemetry, wiring and subcommands. The only
//! crate that reads the environment. `main.rs` only parses arguments and dispatches.

pub mod billing;
pub mod cli;
pub mod config;
pub mod local;
pub mod serve;
pub mod telemetry;
pub mod worker;
