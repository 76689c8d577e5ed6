//! The audit chain's anchor, kept outside the SQLite file: the head row's id and hash,
//! authenticated with HMAC-SHA256 under a random key, both in the secrets store (the OS
//! keyring, or the secrets file). The hash chain alone catches an edited or removed row
//! in the middle; the anchor also catches what the chain cannot: rows deleted from the
//! end, and a file rewritten whole with recomputed hashes. Whoever rewrites the store
//! cannot write a matching anchor without the key.
//!
//! The anchor moves forward after every audit write (and only forward). The team store of
//! the cluster, once there is one, is the better home for it; until then it is local.

use hmac::{Hmac, Mac};
use hsof_store::AuditVerification;
use sha2::{Digest, Sha256};

use crate::secrets::{SecretError, SecretValue};
use crate::AppContext;

type HmacSha256 = Hmac<Sha256>;

/// What the anchor says: the chain had row `id` with hash `hash` as its head.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Anchor {
    id: i64,
    hash: String,
}

fn mac(key: &[u8], id: i64, hash: &str) -> String {
    let mut m = HmacSha256::new_from_slice(key).expect("HMAC takes a key of any length");
    m.update(format!("hsof-audit-anchor\n{id}\n{hash}").as_bytes());
    hex::encode(m.finalize().into_bytes())
}

impl AppContext {
    /// Secret names for this store file (two data directories keep two anchors).
    fn anchor_names(&self) -> (String, String) {
        let file = self.paths().store_file();
        let tag = hex::encode(&Sha256::digest(file.display().to_string().as_bytes())[..6]);
        (format!("audit-anchor-{tag}"), format!("audit-anchor-key-{tag}"))
    }

    fn anchor_key(&self, create: bool) -> Result<Option<Vec<u8>>, SecretError> {
        let (_, key_name) = self.anchor_names();
        match self.secrets().get(&key_name) {
            Ok(v) => Ok(hex::decode(v.expose().trim()).ok()),
            Err(SecretError::NotFound(_)) if create => {
                let mut key = [0u8; 32];
                getrandom::fill(&mut key).map_err(|e| SecretError::Backend {
                    backend: "random key".into(),
                    message: format!("the OS gave no randomness: {e}"),
                })?;
                self.secrets().set(&key_name, &SecretValue::new(hex::encode(key)))?;
                Ok(Some(key.to_vec()))
            }
            Err(SecretError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// The anchor as stored: `Ok(None)` when there is none yet, `Err` with why when it
    /// exists but does not authenticate.
    fn read_anchor(&self) -> Result<Option<Anchor>, String> {
        let (name, _) = self.anchor_names();
        let value = match self.secrets().get(&name) {
            Ok(v) => v.expose().trim().to_string(),
            Err(SecretError::NotFound(_)) => return Ok(None),
            Err(e) => return Err(format!("the audit anchor cannot be read: {e}")),
        };
        let key = match self.anchor_key(false) {
            Ok(Some(k)) => k,
            Ok(None) => return Err("the audit anchor's key is missing: the anchor cannot be trusted".into()),
            Err(e) => return Err(format!("the audit anchor's key cannot be read: {e}")),
        };
        let mut parts = value.splitn(3, ':');
        let (Some(id), Some(hash), Some(tag)) = (parts.next(), parts.next(), parts.next()) else {
            return Err("the audit anchor is malformed (edited outside the app)".into());
        };
        let Ok(id) = id.parse::<i64>() else {
            return Err("the audit anchor is malformed (edited outside the app)".into());
        };
        if mac(&key, id, hash) != tag {
            return Err("the audit anchor does not authenticate: it was edited outside the app".into());
        }
        Ok(Some(Anchor { id, hash: hash.to_string() }))
    }

    /// Moves the anchor to the store's current head, never backwards. Failures are
    /// logged: the audit row itself is written, and `audit verify` says the anchor lags.
    pub(crate) fn advance_audit_anchor(&self) {
        let result = (|| -> Result<(), String> {
            let store = self.store().map_err(|e| e.to_string())?;
            let Some((id, hash)) = store.audit_head().map_err(|e| e.to_string())? else { return Ok(()) };
            if let Ok(Some(a)) = self.read_anchor() {
                if a.id >= id {
                    return Ok(());
                }
            }
            let key = self.anchor_key(true).map_err(|e| e.to_string())?.ok_or("no anchor key")?;
            let (name, _) = self.anchor_names();
            let value = format!("{id}:{hash}:{}", mac(&key, id, &hash));
            self.secrets().set(&name, &SecretValue::new(value)).map_err(|e| e.to_string())
        })();
        if let Err(e) = result {
            tracing::warn!(error = %e, "the audit anchor could not be moved forward");
        }
    }

    /// The hash chain's verdict, then the anchor's: rows missing since the anchor (the end
    /// of the trail deleted) and a chain rewritten with recomputed hashes are both breaks.
    pub(crate) fn check_audit_anchor(&self, chain: AuditVerification) -> Result<AuditVerification, crate::Error> {
        if !chain.intact {
            return Ok(chain);
        }
        let anchor = match self.read_anchor() {
            Ok(Some(a)) => a,
            Ok(None) => return Ok(chain),
            Err(why) => return Ok(AuditVerification { intact: false, broken_at: None, reason: Some(why), ..chain }),
        };
        let store = self.store()?;
        let head = store.audit_head()?.map_or(0, |(id, _)| id);
        if head < anchor.id {
            let missing = anchor.id - head;
            return Ok(AuditVerification {
                intact: false,
                broken_at: Some(head + 1),
                reason: Some(format!(
                    "{missing} row(s) missing since the anchor: the anchor saw row {} and the trail ends at row {head}",
                    anchor.id
                )),
                ..chain
            });
        }
        if store.audit_hash(anchor.id)?.as_deref() != Some(anchor.hash.as_str()) {
            return Ok(AuditVerification {
                intact: false,
                broken_at: Some(anchor.id),
                reason: Some(format!(
                    "the chain was rewritten: row {}'s hash is not the one the anchor recorded",
                    anchor.id
                )),
                ..chain
            });
        }
        Ok(chain)
    }
}
