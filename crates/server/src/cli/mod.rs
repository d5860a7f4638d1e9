//! The subcommands other than `serve`: `migrate`, `config check`, `openapi` and `dev`.

pub mod config_check;
pub mod dev;
pub mod migrate;
