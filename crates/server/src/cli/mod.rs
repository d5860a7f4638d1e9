//! The subcommands other than `serve`: `migrate`, `config check`, `dev` and `healthcheck`.

pub mod config_check;
pub mod dev;
pub mod healthcheck;
pub mod migrate;
