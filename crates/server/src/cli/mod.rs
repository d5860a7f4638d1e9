//! The subcommands other than `serve`: `migrate`, `config check`, `dev`, `healthcheck` and
//! `secrets`.

pub mod config_check;
pub mod dev;
pub mod healthcheck;
pub mod migrate;
pub mod secrets;
