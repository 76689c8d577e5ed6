//! Container registries over the OCI distribution API
//! (<https://github.com/opencontainers/distribution-spec>): an image's tags
//! (`GET /v2/<name>/tags/list`, following `Link` pages), a tag's current digest (`HEAD
//! /v2/<name>/manifests/<tag>`) and creation time (its config blob's `created`), with the
//! registry's bearer-token flow (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`, the
//! token asked of the realm with the pull secret's credentials) or basic auth, a 429
//! waited out per `Retry-After` (bounded). Credentials come from the caller (the workloads'
//! pull secrets) and live only in memory. [`versions`] picks the newest release by
//! semantic version.

pub mod client;
pub mod reference;
pub mod versions;

pub use client::{Client, Credentials, RegistryError};
pub use reference::ImageRef;
