//! Upkeep of the HSOF namespace, pure: [`versions`] (the API server's and every node's
//! Kubernetes version against the version-skew policy and the releases' end of support),
//! [`apis`] (objects written at API versions a coming release removes, from a table kept
//! here with its source), and [`leftovers`] (what can be cleaned up, and what is kept and
//! why). Nothing here talks to a cluster; an area the caller could not read arrives as
//! `Err(why)` and is named, never reported clean.

pub mod apis;
pub mod leftovers;
pub mod versions;

/// What could be read of one area: the objects, or why not.
pub type Read<T> = Result<T, String>;
