//! Typed IPC commands, one file per area. Each unpacks its arguments, calls one
//! `hsof-core` function and maps the error to `{code, message, detail}`.

pub mod app;
pub mod audit;
pub mod calendar;
pub mod cluster;
pub mod config;
pub mod connect;
pub mod cost;
pub mod demo;
pub mod experiments;
pub mod fleet;
pub mod followthrough;
pub mod gpu;
pub mod incidents;
pub mod monitoring;
pub mod security;
pub mod team;
pub mod upkeep;
