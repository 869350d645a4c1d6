//! lore keeps the reasoning behind code: it imports AI coding transcripts into a local SQLite
//! database, versions every change to it, and shares sessions through git remotes, encrypted.
//!
//! This crate is the library: all domain logic, no printing, no exiting. The `lore` and
//! `git-remote-lore` binaries own output, prompts and exit codes.

pub mod agents;
pub mod answer;
pub mod blame;
pub mod capture;
pub mod config;
pub mod content;
pub mod crypto;
pub mod db;
pub mod git;
pub mod gitstore;
pub mod harden;
pub mod home;
pub mod hooks;
pub mod import;
pub mod keys;
pub mod link;
pub mod logfile;
pub mod mcp;
pub mod migrate_varalys;
pub mod model;
pub mod reading;
pub mod readsql;
pub mod redact;
pub mod remote;
pub mod repo;
pub mod sync;
pub mod versioning;
pub mod watch;
