//! Posting incident news to Slack through an incoming webhook: Block Kit messages within
//! Slack's limits, and a client that tells retryable failures from permanent ones.

mod client;
mod message;

pub use client::{parse_retry_after, retry_after, SlackClient, SlackError};
pub use message::{
    declared_message, resolved_message, update_messages, SlackMessage, BLOCKS_MAX, MESSAGE_CHARS_BUDGET,
    SECTION_TEXT_MAX, TEXT_MAX,
};
